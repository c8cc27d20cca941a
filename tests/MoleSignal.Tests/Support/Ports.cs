using System.Net;
using System.Net.Sockets;

namespace MoleSignal.Tests.Support;

public static class Ports
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A loopback port that is free now and not handed out before in this run.</summary>
    public static int Free()
    {
        lock (Handed)
        {
            while (true)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                var port = ((IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                if (Handed.Add(port)) return port;
            }
        }
    }
}
