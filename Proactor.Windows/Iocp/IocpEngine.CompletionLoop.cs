using System;
using System.Collections.Generic;
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
                    // Announce the sleep, then look once more for what a waker may have published
                    // (see LoopWaker): a stop, and the earliest deadline, which bounds the wait (the
                    // engine's timers cost no OS timer). Work itself arrives as packets.
                    _waker.PrepareToSleep();
                    int timeout = _stopping ? 0 : Timers.GetWaitTimeoutMilliseconds();
                    if (timeout is > 0 and <= NearDeadlineMilliseconds)
                    {
                        // A deadline within a millisecond or two: a blocking wait would overshoot it
                        // (the wait rounds up to whole milliseconds, and a wake-up from a timed wait
                        // costs more than one from a packet), so poll the port and yield until it is due.
                        timeout = 0;
                        Thread.Yield();
                    }

                    if (timeout == 0)
                    {
                        _waker.Awake();
                    }

                    uint n = Dequeue(entries, capacity, timeout < 0 ? Interop.Kernel32.INFINITE : (uint)timeout);
                    _waker.Awake();
                    DispatchPackets(entries, n);
                    OnLoopIteration();
                    Timers.RunDue();
                    FlushCompletions();
                }

                Shutdown(entries, capacity);
                FlushCompletions();
            }
            finally
            {
                NativeMemory.Free(entries);
            }
        }
        catch (Exception e)
        {
            // A completion thread never dies quietly: report, then let the process fail.
            WriteStandardError($"Proactor: the {Name} completion thread failed: {e}");
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

    /// <summary>Completion thread: says why, then completes the operations of <see cref="IocpSocket.Abandon"/>.</summary>
    internal void CompleteAbandoned(int abandoned, List<IocpOperation> done)
    {
        if (abandoned > 0)
        {
            Warn("abandoned",
                $"Proactor: {abandoned} overlapped operation(s) of the {Name} engine were not returned by the OS within " +
                $"{Hooks.DrainTimeout.TotalSeconds} s of closing their socket; they complete with OperationAborted, and their " +
                "OVERLAPPED and buffers stay pinned for the life of the process (the OS could still write to them).");
        }

        foreach (IocpOperation op in done)
        {
            op.Complete();
        }
    }

    private void DispatchPackets(Interop.Kernel32.OVERLAPPED_ENTRY* entries, uint count)
    {
        for (uint i = 0; i < count; i++)
        {
            ref Interop.Kernel32.OVERLAPPED_ENTRY entry = ref entries[i];
            if (entry.lpCompletionKey == WakeKey)
            {
                continue; // only ended the wait (LoopWaker)
            }

            IocpOperation op = IocpOperation.FromOverlapped(entry.lpOverlapped);
            if (op.IsAbandoned)
            {
                // Returned after all, once the engine gave up on it: it completed then; the memory stays kept.
                continue;
            }

            if (entry.lpCompletionKey == AbortKey)
            {
                op.Unroot();
                RemovePending();
                op.Complete();
                continue;
            }

            var socket = (IocpSocket)op.Owner.EngineSocket;
            if (_losePacketsOfClosedSockets && socket.IsClosed)
            {
                continue; // test hook: a stack that never returns the calls of a closed socket
            }

            socket.OnPacket(op, entry.dwNumberOfBytesTransferred);
        }
    }

    /// <summary>
    /// On the completion thread, after the loop: closes every socket (closesocket aborts their
    /// overlapped calls), then keeps draining the port until every aborted call's packet was
    /// processed — each operation completes once, and only then are its buffer and OVERLAPPED
    /// released — and finally closes the port.
    /// </summary>
    /// <remarks>
    /// A stack may never return an aborted call: Wine 8 loses the packet of some receives pending
    /// when their socket is closed (CancelIoEx and closesocket notwithstanding). A socket closed
    /// before the engine abandons such calls itself (<see cref="IocpSocket.Close"/>); here, after
    /// <see cref="IocpTestHooks.DrainTimeout"/> (10 s) such a call is abandoned — completed with OperationAborted, as
    /// every operation must complete — but its OVERLAPPED stays rooted and its buffer pinned for the
    /// life of the process, since the OS may still write to them (see <see cref="IocpOperation.Abandon"/>).
    /// </remarks>
    private void Shutdown(Interop.Kernel32.OVERLAPPED_ENTRY* entries, uint capacity)
    {
        IocpSocket[] sockets;
        IocpSocket[] closing;
        lock (_registrationLock)
        {
            _registrationsClosed = true;
            sockets = [.. _sockets];
            closing = [.. _closing];
            _sockets.Clear();
            _closing.Clear();
        }

        foreach (IocpSocket socket in sockets)
        {
            socket.Close();
        }

        TimeSpan drainTimeout = Hooks.DrainTimeout;
        long deadline = Stopwatch.GetTimestamp() + (long)(drainTimeout.TotalSeconds * Stopwatch.Frequency);
        while (PendingOperations > 0 && Stopwatch.GetTimestamp() <= deadline)
        {
            DispatchPackets(entries, Dequeue(entries, capacity, 100));
        }

        if (PendingOperations > 0)
        {
            var done = new List<IocpOperation>();
            int abandoned = 0;
            foreach (IocpSocket socket in sockets)
            {
                abandoned += socket.Abandon(done);
            }

            foreach (IocpSocket socket in closing)
            {
                abandoned += socket.Abandon(done);
            }

            CompleteAbandoned(abandoned, done);
        }

        // Last look at the port: an abort posted before this point is in it, and none can follow.
        lock (_postLock)
        {
            _postsClosed = true;
        }

        uint n;
        while ((n = Dequeue(entries, capacity, 0)) > 0)
        {
            DispatchPackets(entries, n);
        }

        _port.Dispose();
    }
}
