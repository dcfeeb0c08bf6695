using System.Net;
using System.Net.Sockets;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>
/// A TCP relay on a free loopback port to a real server (PostgreSQL in the fault tests): <see cref="Cut"/> drops every
/// connection and refuses new ones, as a database that went down does to one node; <see cref="Restore"/> listens again on
/// the same port. The bytes in between are the real protocol's.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cut = new();

    public TcpRelay(IPEndPoint target)
    {
        _target = target;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        _cut = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _cut.Token);
    }

    public void Cut()
    {
        _cut.Cancel();
        _listener?.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Client.LingerState = new LingerOption(true, 0); // a reset, as a host that went away
                connection.Dispose();
            }

            _connections.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cut)
    {
        while (!cut.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cut);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_target, cut);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(server);
            }

            _ = PumpAsync(client, server, cut);
            _ = PumpAsync(server, client, cut);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken cut)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), cut);
            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // Cut, or one side closed: the other side sees the connection end.
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
