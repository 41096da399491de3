using k8s;
using k8s.Models;

namespace Ferry.Deploy.Tests.Kubernetes;

/// <summary>
/// The official C# client's typed models (KubernetesClient 21.0.8, generated from the Kubernetes OpenAPI
/// spec), read strictly: a field the kind does not have is an error, as <c>kubectl --validate=strict</c>
/// and the API server's strict field validation make it. Kinds the client has no model for (custom
/// resources) return false.
/// </summary>
public static class KubernetesModels
{
    private static readonly IReadOnlyDictionary<string, Type> Kinds = typeof(KubernetesEntityAttribute).Assembly.GetTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttributes(typeof(KubernetesEntityAttribute), false).OfType<KubernetesEntityAttribute>().FirstOrDefault()))
        .Where(x => x.Entity is { Kind.Length: > 0 } && !x.Type.Name.EndsWith("List", StringComparison.Ordinal))
        .ToDictionary(x => Key(x.Entity!.Group, x.Entity.ApiVersion, x.Entity.Kind), x => x.Type);

    /// <summary>Whether the client has a model for the kind.</summary>
    public static bool Knows(string apiVersion, string kind) => Kinds.ContainsKey(apiVersion + "/" + kind);

    /// <summary>Reads <paramref name="yaml"/> (one object) strictly into its model; the reader's complaint, or null when it fits.</summary>
    public static string? Problem(string apiVersion, string kind, string yaml)
    {
        if (!Kinds.TryGetValue(apiVersion + "/" + kind, out var type))
        {
            return $"no model for {apiVersion} {kind}";
        }

        try
        {
            var read = typeof(KubernetesYaml).GetMethods()
                .Single(m => m.Name == nameof(KubernetesYaml.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType: var p }, _] && p == typeof(string))
                .MakeGenericMethod(type)
                .Invoke(null, [yaml, true]);
            return read is null ? "it read as nothing" : null;
        }
        catch (System.Reflection.TargetInvocationException e)
        {
            return e.InnerException?.Message ?? e.Message;
        }
    }

    private static string Key(string group, string version, string kind) => (group.Length > 0 ? group + "/" : "") + version + "/" + kind;
}
