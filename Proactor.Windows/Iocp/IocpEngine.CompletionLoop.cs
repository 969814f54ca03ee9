using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

internal sealed unsafe partial class IocpEngine
{
    /// <summary>How close a deadline must be for the loop to poll rather than block.</summary>
    private const int NearDeadlineMilliseconds = 1;

    private void CompletionLoop()
    {
        try
        {
            EnterEngineThread();
            uint capacity = (uint)Options.MaxEventsPerWait;
            var entries = (Interop.Kernel32.OVERLAPPED_ENTRY*)NativeMemory.Alloc(capacity, (nuint)sizeof(Interop.Kernel32.OVERLAPPED_ENTRY));
            try
            {
                while (!_stopping)
                {
                    // The wait lasts until the earliest deadline: the engine's timers cost no OS timer.
                    int timeout = Timers.GetWaitTimeoutMilliseconds();
                    if (timeout is > 0 and <= NearDeadlineMilliseconds)
                    {
                        // A deadline within a millisecond or two: a blocking wait would overshoot it
                        // (the wait rounds up to whole milliseconds, and a wake-up from a timed wait
                        // costs more than one from a packet), so poll the port and yield until it is due.
                        timeout = 0;
                        Thread.Yield();
                    }

                    uint n = Dequeue(entries, capacity, timeout < 0 ? Interop.Kernel32.INFINITE : (uint)timeout);
                    DispatchPackets(entries, n);
                    Timers.RunDue();
                }

                Shutdown(entries, capacity);
            }
            finally
            {
                NativeMemory.Free(entries);
            }
        }
        catch (Exception e)
        {
            // A completion thread never dies quietly: report, then let the process fail.
            Console.Error.WriteLine($"Proactor: the {Name} completion thread failed: {e}");
            throw;
        }
    }

    private uint Dequeue(Interop.Kernel32.OVERLAPPED_ENTRY* entries, uint capacity, uint timeoutMilliseconds)
    {
        uint removed = 0;
        if (Interop.Kernel32.GetQueuedCompletionStatusEx(_portHandle, entries, capacity, &removed, timeoutMilliseconds, 0) != 0)
        {
            return removed;
        }

        int error = Marshal.GetLastPInvokeError();
        if (error == Interop.Kernel32.WAIT_TIMEOUT)
        {
            return 0;
        }

        throw new Win32Exception(error, "GetQueuedCompletionStatusEx failed");
    }

    private void DispatchPackets(Interop.Kernel32.OVERLAPPED_ENTRY* entries, uint count)
    {
        for (uint i = 0; i < count; i++)
        {
            ref Interop.Kernel32.OVERLAPPED_ENTRY entry = ref entries[i];
            if (entry.lpCompletionKey == WakeKey)
            {
                Volatile.Write(ref _wakePending, 0);
                continue;
            }

            IocpOperation op = IocpOperation.FromOverlapped(entry.lpOverlapped);
            if (entry.lpCompletionKey == AbortKey)
            {
                op.Unroot();
                RemovePending();
                op.Complete();
                continue;
            }

            ((IocpSocket)op.Owner.EngineSocket).OnPacket(op, entry.dwNumberOfBytesTransferred);
        }
    }

    /// <summary>
    /// On the completion thread, after the loop: closes every socket (closesocket aborts their
    /// overlapped calls), then keeps draining the port until every aborted call's packet was
    /// processed — each operation completes once, and only then are its buffer and OVERLAPPED
    /// released — and finally closes the port.
    /// </summary>
    private void Shutdown(Interop.Kernel32.OVERLAPPED_ENTRY* entries, uint capacity)
    {
        IocpSocket[] sockets;
        lock (_registrationLock)
        {
            _registrationsClosed = true;
            sockets = [.. _sockets];
            _sockets.Clear();
        }

        foreach (IocpSocket socket in sockets)
        {
            socket.Close();
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(s_drainTimeout.TotalSeconds * Stopwatch.Frequency);
        while (PendingOperations > 0)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                // Never seen; a stack that loses the packet of an aborted call. Those operations stay
                // rooted (their OVERLAPPED and buffer are never released, so the kernel can still
                // write to them safely); say so rather than hang Dispose forever.
                Console.Error.WriteLine(
                    $"Proactor: {PendingOperations} overlapped operation(s) of the {Name} engine were not completed by the OS " +
                    $"within {s_drainTimeout.TotalSeconds} s of closing their sockets; they are abandoned (never completed, memory kept).");
                break;
            }

            DispatchPackets(entries, Dequeue(entries, capacity, 100));
        }

        _port.Dispose();
    }
}
