using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Proactor;

public sealed partial class ProactorSocket
{
    /// <summary>
    /// Whether an IPv6 socket also carries IPv4 (IPV6_V6ONLY off): a dual-mode socket connects to
    /// IPv4 end points (as IPv4-mapped IPv6 addresses) and a dual-mode listener accepts IPv4 clients.
    /// </summary>
    /// <remarks>
    /// As with <see cref="Socket"/> created for <see cref="AddressFamily.InterNetworkV6"/>, a new
    /// socket is not dual-mode, on Linux too (where the kernel's own default would be). Set it before
    /// <see cref="Bind"/> or a connect.
    /// </remarks>
    /// <exception cref="NotSupportedException">The socket is not IPv6.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public bool DualMode
    {
        get
        {
            ThrowIfDisposed();
            ThrowIfNotIPv6();
            return OsSocket.DualMode;
        }
        set
        {
            ThrowIfDisposed();
            ThrowIfNotIPv6();
            OsSocket.DualMode = value;
        }
    }

    /// <summary>Creates an IPv4 or IPv6 socket bound to <paramref name="localEndPoint"/> and
    /// listening, choosing for an IPv6 end point whether IPv4 clients are accepted too.</summary>
    /// <param name="engine">The engine that will run the listener and the connections it accepts.</param>
    /// <param name="localEndPoint">The address and port to listen on.</param>
    /// <param name="dualMode">For an IPv6 end point (e.g. <see cref="IPAddress.IPv6Any"/>): true to accept
    /// IPv4 clients as well. <see cref="CreateListener(ProactorEngine, IPEndPoint, int)"/> leaves it false, as
    /// a <see cref="Socket"/> of <see cref="AddressFamily.InterNetworkV6"/> does.</param>
    /// <param name="backlog">The OS accept queue length (capped by the OS).</param>
    /// <returns>The listening socket.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="dualMode"/> is true for an IPv4 end point.</exception>
    /// <exception cref="SocketException">The bind or listen failed (e.g. the address is in use).</exception>
    public static ProactorSocket CreateListener(ProactorEngine engine, IPEndPoint localEndPoint, bool dualMode, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ArgumentOutOfRangeException.ThrowIfNegative(backlog);
        if (dualMode && localEndPoint.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException("Dual mode needs an IPv6 end point (e.g. IPAddress.IPv6Any).", nameof(dualMode));
        }

        return BindAndListen(new ProactorSocket(engine, localEndPoint.AddressFamily), localEndPoint, backlog, dualMode);
    }

    /// <summary>
    /// Resolves <paramref name="host"/> and connects to the first of its addresses that accepts,
    /// trying them in the resolver's order, as <see cref="Socket.ConnectAsync(string, int)"/> does.
    /// </summary>
    /// <param name="host">A host name or an address literal.</param>
    /// <param name="port">The port, 0 to 65535.</param>
    /// <param name="cancellationToken">Ends the resolution or the connect in progress.</param>
    /// <returns>A task that completes when a connection is established.</returns>
    /// <remarks>Only addresses of the socket's family are tried (IPv4 ones too on a
    /// <see cref="DualMode"/> IPv6 socket). When every address fails, the last address's
    /// <see cref="SocketException"/> is thrown.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty, or the socket is not IPv4/IPv6.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0..65535.</exception>
    /// <exception cref="SocketException">The name did not resolve (<see cref="SocketError.HostNotFound"/>),
    /// resolved to no address of the socket's family (<see cref="SocketError.AddressFamilyNotSupported"/>),
    /// or every address refused.</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        return ConnectAsync(new DnsEndPoint(host, port), Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <summary>Connects to the first of <paramref name="addresses"/> that accepts on
    /// <paramref name="port"/>, in order, as <see cref="Socket.ConnectAsync(IPAddress[], int)"/> does.</summary>
    /// <param name="addresses">The candidates; those of another family than the socket's are skipped
    /// (IPv4 ones are used on a <see cref="DualMode"/> IPv6 socket).</param>
    /// <param name="port">The port, 0 to 65535.</param>
    /// <param name="cancellationToken">Ends the connect in progress.</param>
    /// <returns>A task that completes when a connection is established.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="addresses"/> or one of its elements is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="addresses"/> is empty, or the socket is not IPv4/IPv6.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0..65535.</exception>
    /// <exception cref="SocketException">No address of the socket's family, or every address refused (the last error).</exception>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    public ValueTask ConnectAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Length == 0)
        {
            throw new ArgumentException("At least one address is needed.", nameof(addresses));
        }

        foreach (IPAddress address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
        }

        ValidateForNames(port);
        ValidateAwaitable(OperationKind.Connect);
        return new ValueTask(ConnectToEachAsync((IPAddress[])addresses.Clone(), port, host: null, Timeout.InfiniteTimeSpan, cancellationToken));
    }

    /// <summary><see cref="ConnectAsync(EndPoint, TimeSpan, CancellationToken)"/> of a <see cref="DnsEndPoint"/>.</summary>
    private ValueTask ConnectToNameAsync(DnsEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (endPoint.Host.Length == 0)
        {
            throw new ArgumentException("The host name is empty.", nameof(endPoint));
        }

        ValidateForNames(endPoint.Port);
        if (endPoint.AddressFamily is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"A DnsEndPoint of {endPoint.AddressFamily} cannot name an IP host.", nameof(endPoint));
        }

        return new ValueTask(ResolveAndConnectAsync(endPoint, timeout, cancellationToken));
    }

    private async Task ResolveAndConnectAsync(DnsEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(endPoint.Host, endPoint.AddressFamily, cancellationToken).ConfigureAwait(false);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            timeout -= Stopwatch.GetElapsedTime(start);
            if (timeout <= TimeSpan.Zero)
            {
                throw new SocketException((int)SocketError.TimedOut);
            }
        }

        await ConnectToEachAsync(addresses, endPoint.Port, endPoint.Host, timeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task ConnectToEachAsync(IPAddress[] addresses, int port, string? host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        bool dualMode = AddressFamily == AddressFamily.InterNetworkV6 && OsSocket.DualMode;
        SocketException? last = null;
        foreach (IPAddress address in addresses)
        {
            if (address.AddressFamily != AddressFamily && !(dualMode && address.AddressFamily == AddressFamily.InterNetwork))
            {
                continue;
            }

            TimeSpan remaining = Timeout.InfiniteTimeSpan;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                remaining = timeout - Stopwatch.GetElapsedTime(start);
                if (remaining <= TimeSpan.Zero)
                {
                    throw new SocketException((int)SocketError.TimedOut);
                }
            }

            try
            {
                await ConnectAsync(new IPEndPoint(address, port), remaining, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is not (SocketError.OperationAborted or SocketError.TimedOut) && !IsDisposed)
            {
                // Refused, unreachable, ...: the next address may answer. The socket stays usable:
                // a failed connect leaves it unconnected, and the next connect starts afresh
                // (on a fresh OS socket where the OS cannot connect one twice).
                last = e;
                if (!_engineSocket.CanConnectAgainAfterFailedConnect)
                {
                    ReplaceOsSocketAfterFailedConnect();
                }
            }
        }

        throw last ?? new SocketException((int)SocketError.AddressFamilyNotSupported,
            $"{(host is null ? "None of the addresses" : $"The host '{host}' resolved to no address that")} " +
            $"fits this {AddressFamily} socket{(AddressFamily == AddressFamily.InterNetworkV6 ? " (set DualMode to use IPv4 addresses)" : "")}.");
    }

    private void ValidateForNames(int port)
    {
        ThrowIfDisposed();
        if (AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"Host names and IP addresses need an IPv4 or IPv6 socket, but this socket is {AddressFamily}.");
        }

        if ((uint)port > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, $"The port must be between 0 and {IPEndPoint.MaxPort}.");
        }
    }

    private bool IsDualModeFor(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetwork && AddressFamily == AddressFamily.InterNetworkV6 && OsSocket.DualMode;

    private void ThrowIfNotIPv6()
    {
        if (AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new NotSupportedException($"DualMode applies to IPv6 sockets only; this socket is {AddressFamily}.");
        }
    }
}
