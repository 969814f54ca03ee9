using System.Runtime.InteropServices;
using System.Threading;

namespace Proactor.Windows;

internal static unsafe partial class Interop
{
    internal static partial class Kernel32
    {
        internal const uint INFINITE = 0xFFFFFFFF;
        internal const int WAIT_TIMEOUT = 258;

        /// <summary>SetFileCompletionNotificationModes: an operation that succeeds at once queues no packet.</summary>
        internal const byte FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 0x1;

        /// <summary>SetFileCompletionNotificationModes: the handle's own event is not signalled (nobody waits on it).</summary>
        internal const byte FILE_SKIP_SET_EVENT_ON_HANDLE = 0x2;

        /// <summary>One dequeued completion packet (OVERLAPPED_ENTRY).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct OVERLAPPED_ENTRY
        {
            public nuint lpCompletionKey;
            public NativeOverlapped* lpOverlapped;
            public nuint Internal;
            public uint dwNumberOfBytesTransferred;
        }

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial nint CreateIoCompletionPort(nint FileHandle, nint ExistingCompletionPort, nuint CompletionKey, uint NumberOfConcurrentThreads);

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial int GetQueuedCompletionStatusEx(
            nint CompletionPort,
            OVERLAPPED_ENTRY* lpCompletionPortEntries,
            uint ulCount,
            uint* ulNumEntriesRemoved,
            uint dwMilliseconds,
            int fAlertable);

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial int PostQueuedCompletionStatus(nint CompletionPort, uint dwNumberOfBytesTransferred, nuint dwCompletionKey, NativeOverlapped* lpOverlapped);

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial int SetFileCompletionNotificationModes(nint FileHandle, byte Flags);

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial int CancelIoEx(nint hFile, NativeOverlapped* lpOverlapped);

        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        internal static partial int CloseHandle(nint hObject);
    }
}
