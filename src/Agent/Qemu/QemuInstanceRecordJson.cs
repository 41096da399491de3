using System.Text.Json.Serialization;

namespace Ferry.Agent.Qemu;

/// <summary>Source-generated (de)serializer of <see cref="QemuInstanceRecord"/>; enums by name, for the operator who reads the file.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, WriteIndented = true)]
[JsonSerializable(typeof(QemuInstanceRecord))]
internal sealed partial class QemuInstanceRecordJson : JsonSerializerContext;
