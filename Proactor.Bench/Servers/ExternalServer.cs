using Proactor.Bench.Cli;

namespace Proactor.Bench.Servers;

/// <summary>Parses <c>--external NAME=COMMAND</c>.</summary>
internal static class ExternalServer
{
    public const string PortPlaceholder = "{port}";

    public static ServerSpec Parse(string text)
    {
        int eq = text.IndexOf('=', System.StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1 || string.IsNullOrWhiteSpace(text[(eq + 1)..]))
        {
            throw new UsageException($"--external needs NAME=COMMAND (e.g. --external \"go=./echo -port {PortPlaceholder}\"), not '{text}'.");
        }

        string name = text[..eq].Trim();
        string command = text[(eq + 1)..].Trim();
        if (name.Length == 0 || name.Contains(' ', System.StringComparison.Ordinal) || name.Contains(',', System.StringComparison.Ordinal))
        {
            throw new UsageException($"--external: the name '{name}' must be one word without commas.");
        }

        return new ServerSpec
        {
            Name = name,
            Kind = ServerKind.External,
            Command = command,
            Description = $"external: {command}",
        };
    }

    /// <summary>The command with the port in place: at <c>{port}</c>, or appended when there is no placeholder.</summary>
    public static string WithPort(string command, int port)
    {
        string p = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return command.Contains(PortPlaceholder, System.StringComparison.Ordinal)
            ? command.Replace(PortPlaceholder, p, System.StringComparison.Ordinal)
            : command + " " + p;
    }
}
