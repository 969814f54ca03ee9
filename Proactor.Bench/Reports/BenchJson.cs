using System.Text.Json.Serialization;
using Proactor.Bench.Compare;
using Proactor.Bench.Load;

namespace Proactor.Bench.Reports;

/// <summary>Source-generated JSON for the load generator's protocol and results.json.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LoadRequest))]
[JsonSerializable(typeof(LoadResult))]
[JsonSerializable(typeof(ComparisonReport))]
internal sealed partial class BenchJson : JsonSerializerContext
{
}
