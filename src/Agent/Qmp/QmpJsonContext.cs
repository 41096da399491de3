using System.Text.Json.Serialization;

namespace Ferry.Agent.Qmp;

/// <summary>Source-generated (de)serializers for every QMP payload Ferry sends or reads.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunState))]
[JsonSerializable(typeof(MigrationInfo))]
[JsonSerializable(typeof(MigrationParameters))]
[JsonSerializable(typeof(MigrationCapabilitiesArguments))]
[JsonSerializable(typeof(MigrationUriArguments))]
[JsonSerializable(typeof(MigrateContinueArguments))]
[JsonSerializable(typeof(TlsCredentialsObject))]
[JsonSerializable(typeof(AuthorizationListObject))]
[JsonSerializable(typeof(ObjectIdArguments))]
internal sealed partial class QmpJsonContext : JsonSerializerContext;
