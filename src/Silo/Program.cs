using MoleSignal.Silo.Startup;

return await SiloProgram.RunAsync(args);
