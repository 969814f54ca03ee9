using System;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Proactor.Linux;

/// <summary>
/// sendfile(2) for a file send (<see cref="Operation.SendFileHandle"/>) on a non-blocking socket:
/// the kernel copies from the page cache to the socket, the bytes never enter the process. Returns
/// true when the operation is finished, false when the socket would block (the caller retries on
/// writability, from <c>FileOffset + BytesTransferred</c>).
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class FileIo
{
    public static bool TrySendFile(Operation op, int fd)
    {
        SafeFileHandle file = op.SendFileHandle!;
        bool added = false;
        try
        {
            // The caller's handle: a reference keeps a concurrent close from recycling the descriptor mid-call.
            file.DangerousAddRef(ref added);
            int fileFd = (int)file.DangerousGetHandle();
            EngineSocket engineSocket = op.Owner.EngineSocket;
            while (op.BytesTransferred < op.TransferLength)
            {
                long offset = op.FileOffset + op.BytesTransferred;
                op.Owner.Engine.Statistics.OnFileSendCall();
                nint n;
                int errno;
                if (engineSocket.SimulateFileSendUnsupported)
                {
                    n = -1;
                    errno = Interop.Errno.EINVAL;
                }
                else
                {
                    // The offset pointer leaves the file's own position alone (the handle may be shared).
                    n = Interop.Sys.SendFile(fd, fileFd, &offset, (nuint)(op.TransferLength - op.BytesTransferred));
                    errno = n < 0 ? Interop.Errno.Last : 0;
                }

                if (n > 0)
                {
                    op.BytesTransferred += (int)n;
                    continue;
                }

                switch (n == 0 ? 0 : errno)
                {
                    case 0:
                        // The file ended before the range: complete short; the read+send path that
                        // carries the rest finds the end and says the file was truncated.
                        return true;
                    case Interop.Errno.EINTR:
                        continue;
                    case Interop.Errno.EAGAIN:
                        return false;
                    case Interop.Errno.EINVAL or Interop.Errno.ENOSYS or Interop.Errno.EOPNOTSUPP:
                        // This file system or socket type cannot splice (a FUSE or /proc file, a
                        // socket type without sendpage): complete short, the read+send path carries the rest.
                        return true;
                    default:
                        op.Error = Interop.Errno.ToSocketError(errno);
                        return true;
                }
            }

            return true;
        }
        catch (ObjectDisposedException)
        {
            // The caller closed its file handle mid-transfer.
            op.Error = SocketError.OperationAborted;
            return true;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }
}
