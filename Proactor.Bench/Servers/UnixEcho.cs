using System;
using System.IO;
using System.Net.Sockets;

namespace Proactor.Bench.Servers;

/// <summary>
/// The Unix-socket side of the echo servers: beside the TCP listener on port P, a Unix domain
/// stream listener on a path derived from P (as the UDP echo reuses P's number), so the
/// comparison's load generator finds it from the port the server printed, with no new protocol.
/// </summary>
internal static class UnixEcho
{
    /// <summary>The socket file of the server on <paramref name="port"/>: in the temp directory,
    /// short enough for sun_path (108 bytes) under any usual TMPDIR.</summary>
    public static string PathFor(int port) => Path.Combine(Path.GetTempPath(), $"proactor-bench-{port}.sock");

    public static UnixDomainSocketEndPoint EndPointFor(int port) => new(PathFor(port));

    /// <summary>
    /// Binds a listener at <see cref="PathFor"/> through <paramref name="start"/> (which also starts
    /// its accept loop); the result closes it and removes the file. A file left by a killed server
    /// on a reused port is removed first: the port being ours proves nobody else serves there. When
    /// the OS refuses, says so and returns null: the server runs without its Unix side.
    /// </summary>
    public static IDisposable? TryStart(int port, Func<UnixDomainSocketEndPoint, IDisposable> start)
    {
        string path = PathFor(port);
        try
        {
            File.Delete(path);
            return new Listener(start(new UnixDomainSocketEndPoint(path)), path);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Console.Error.WriteLine($"unix echo not started at {path}: {e.Message}");
            return null;
        }
    }

    private sealed class Listener(IDisposable listener, string path) : IDisposable
    {
        public void Dispose()
        {
            listener.Dispose();
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}
