global using Xunit;
global using MoleSignal.Tests.Support;
