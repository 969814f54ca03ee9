using Microsoft.Extensions.Logging;

namespace Proactor;

/// <summary>
/// The engine's warnings as log entries: one event id per kind, so a log pipeline can filter or
/// alert on each. Generated (LoggerMessage source generator): no reflection, AOT-safe.
/// </summary>
internal static partial class ProactorLog
{
    public static void Warning(ILogger logger, string kind, string engine, string message)
    {
        switch (kind)
        {
            case "inline-handler": SlowInlineHandler(logger, engine, message); break;
            case "dispose-join":
            case "dispose": DisposeJoinTimedOut(logger, engine, message); break;
            case "backend-fallback": BackendFallback(logger, engine, message); break;
            case "accept-error": AcceptError(logger, engine, message); break;
            case "start-failed": StartFailed(logger, engine, message); break;
            case "abandoned":
            case "io_uring-shutdown": CallsAbandoned(logger, engine, message); break;
            default: OtherWarning(logger, engine, message); break;
        }
    }

    [LoggerMessage(EventId = 1, EventName = "SlowInlineHandler", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void SlowInlineHandler(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 2, EventName = "DisposeJoinTimedOut", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void DisposeJoinTimedOut(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 3, EventName = "BackendFallback", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void BackendFallback(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 4, EventName = "AcceptError", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void AcceptError(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 5, EventName = "StartFailed", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void StartFailed(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 6, EventName = "CallsAbandoned", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void CallsAbandoned(ILogger logger, string engine, string message);

    [LoggerMessage(EventId = 99, EventName = "EngineWarning", Level = LogLevel.Warning, Message = "[{Engine}] {Message}")]
    private static partial void OtherWarning(ILogger logger, string engine, string message);
}
