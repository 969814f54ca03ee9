using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

namespace Proactor.Tests.AspNetCore;

/// <summary>Reads HTTP/1.1 responses with a Content-Length from a raw socket, one after another
/// (pipelined responses arrive back to back in one stream).</summary>
internal sealed class RawHttpReader
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = new();

    public RawHttpReader(Socket socket) => _socket = socket;

    public async Task<byte[]> ReadResponseAsync()
    {
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd()) < 0)
        {
            await FillAsync();
        }

        string head = Encoding.ASCII.GetString(_pending.GetRange(0, headerEnd).ToArray());
        if (!head.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"unexpected response: {head}");
        }

        int length = 0;
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
        }

        int total = headerEnd + 4 + length;
        while (_pending.Count < total)
        {
            await FillAsync();
        }

        byte[] body = _pending.GetRange(headerEnd + 4, length).ToArray();
        _pending.RemoveRange(0, total);
        return body;
    }

    private async Task FillAsync()
    {
        byte[] buffer = new byte[65536];
        int n = await _socket.ReceiveAsync(buffer);
        if (n == 0)
        {
            throw new InvalidOperationException("the server closed the connection mid-response");
        }

        _pending.AddRange(buffer.AsSpan(0, n));
    }

    private int IndexOfHeaderEnd()
    {
        for (int i = 0; i + 3 < _pending.Count; i++)
        {
            if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
