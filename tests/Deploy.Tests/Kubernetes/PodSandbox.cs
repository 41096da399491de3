using System.Text;
using System.Text.Json.Nodes;

namespace Ferry.Deploy.Tests.Kubernetes;

/// <summary>
/// What the kubelet gives one container, reproduced on this machine: its environment (values, Secret and
/// ConfigMap keys, the downward API, <c>$(VAR)</c> references to variables defined before) and its volumes
/// as directories under a temporary root (Secret and ConfigMap volumes filled with their keys, hostPath
/// volumes with what the test puts there). A path in the environment that lies in a mount is rewritten to
/// the directory standing in for it, so the process reads the files the pod would read.
/// A missing Secret, key or ConfigMap fails, as it keeps a real pod from starting.
/// </summary>
public sealed class PodSandbox : IDisposable
{
    private readonly List<(string MountPath, string Local)> _mounts = [];

    /// <param name="pod">The pod spec.</param>
    /// <param name="container">The container's name.</param>
    /// <param name="secrets">The namespace's Secrets: name → key → value.</param>
    /// <param name="fields">Downward API values by field path (spec.nodeName, status.hostIP, metadata.name).</param>
    /// <param name="hostPaths">Files to put in hostPath volumes: host path → file name → content.</param>
    /// <param name="configMaps">The namespace's ConfigMaps: name → key → value.</param>
    public PodSandbox(JsonObject pod, string container, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets,
        IReadOnlyDictionary<string, string> fields, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? hostPaths = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? configMaps = null)
    {
        Root = Directory.CreateTempSubdirectory("ferry-pod").FullName;
        Container = pod["containers"]!.AsArray().OfType<JsonObject>().Single(c => (string?)c["name"] == container);
        configMaps ??= new Dictionary<string, IReadOnlyDictionary<string, string>>();
        var volumes = (pod["volumes"]?.AsArray() ?? []).OfType<JsonObject>().ToDictionary(v => (string)v["name"]!);
        foreach (var mount in (Container["volumeMounts"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            var path = (string)mount["mountPath"]!;
            var volume = volumes.TryGetValue((string)mount["name"]!, out var v) ? v : throw new InvalidOperationException($"volumeMount {mount["name"]} names no volume");
            var local = Path.Combine(Root, path.TrimStart('/'));
            Directory.CreateDirectory(local);
            IReadOnlyDictionary<string, string> files = volume switch
            {
                _ when volume["secret"] is JsonObject s => Lookup(secrets, "Secret", (string)s["secretName"]!),
                _ when volume["configMap"] is JsonObject c => Lookup(configMaps, "ConfigMap", (string)c["name"]!),
                _ when volume["hostPath"] is JsonObject h && hostPaths?.TryGetValue((string)h["path"]!, out var onHost) == true => onHost,
                _ => new Dictionary<string, string>(),
            };
            foreach (var (file, content) in files)
            {
                File.WriteAllText(Path.Combine(local, file), content);
            }

            _mounts.Add((path.TrimEnd('/'), local));
        }

        Environment = Resolve(secrets, configMaps, fields);
    }

    public string Root { get; }

    public JsonObject Container { get; }

    /// <summary>The container's environment as the process sees it, paths rewritten into the sandbox.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Where <paramref name="path"/> (a path inside the container) is on this machine.</summary>
    public string Local(string path) =>
        _mounts.Where(m => path == m.MountPath || path.StartsWith(m.MountPath + "/", StringComparison.Ordinal))
            .Select(m => m.Local + path[m.MountPath.Length..]).FirstOrDefault()
        ?? throw new InvalidOperationException($"{path} is in no volume of the container");

    public bool IsMounted(string path) => _mounts.Any(m => path == m.MountPath || path.StartsWith(m.MountPath + "/", StringComparison.Ordinal));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Kubernetes' expansion of <c>$(NAME)</c> in an env value: defined names are replaced, <c>$$</c> escapes, others stay as written.</summary>
    public static string Expand(string value, IReadOnlyDictionary<string, string> defined)
    {
        var result = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '$')
            {
                result.Append('$');
                i++;
            }
            else if (value[i] == '$' && i + 1 < value.Length && value[i + 1] == '(' && value.IndexOf(')', i + 2) is var end and > 0
                     && defined.TryGetValue(value[(i + 2)..end], out var replacement))
            {
                result.Append(replacement);
                i = end;
            }
            else
            {
                result.Append(value[i]);
            }
        }

        return result.ToString();
    }

    private static IReadOnlyDictionary<string, string> Lookup(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> store, string kind, string name) =>
        store.TryGetValue(name, out var found) ? found : throw new InvalidOperationException($"{kind} {name} does not exist: the pod would not start");

    private Dictionary<string, string> Resolve(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> configMaps, IReadOnlyDictionary<string, string> fields)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in (Container["env"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            var name = (string)variable["name"]!;
            if (env.ContainsKey(name))
            {
                throw new InvalidOperationException($"env {name} is set twice");
            }

            string value;
            if (variable["valueFrom"] is JsonObject from)
            {
                value = from switch
                {
                    _ when from["secretKeyRef"] is JsonObject s => Key(Lookup(secrets, "Secret", (string)s["name"]!), (string)s["key"]!, $"Secret {s["name"]}"),
                    _ when from["configMapKeyRef"] is JsonObject c => Key(Lookup(configMaps, "ConfigMap", (string)c["name"]!), (string)c["key"]!, $"ConfigMap {c["name"]}"),
                    _ when from["fieldRef"] is JsonObject f => Key(fields, (string)f["fieldPath"]!, "the downward API"),
                    _ => throw new InvalidOperationException($"env {name}: unsupported valueFrom {from.ToJsonString()}"),
                };
            }
            else
            {
                value = Expand((string?)variable["value"] ?? "", env);
            }

            env[name] = value;
        }

        // Paths into mounts, as the process will open them here.
        foreach (var (name, value) in env.ToList())
        {
            if (value.StartsWith('/') && IsMounted(value))
            {
                env[name] = Local(value);
            }
        }

        return env;
    }

    private static string Key(IReadOnlyDictionary<string, string> source, string key, string what) =>
        source.TryGetValue(key, out var value) ? value : throw new InvalidOperationException($"{what} has no key '{key}': the pod would not start");
}
