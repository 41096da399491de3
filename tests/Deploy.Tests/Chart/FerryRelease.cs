using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ferry.Deploy.Tests.Kubernetes;
using Ferry.Testing;

namespace Ferry.Deploy.Tests.Chart;

/// <summary>
/// The chart installed into a namespace the way docs/deployment.md says to: first the
/// Secrets the values name as existing (the API's certificate, the API keys' hashes, the database's
/// connection string, the agents' certificates), made here with a test CA, then the rendered objects, the
/// chart's own Secrets among them. A compute node has its certificate in the hostPath the values name.
/// Nothing else exists: a pod that refers to any other Secret or ConfigMap does not start in
/// <see cref="Pod"/>, as it would not in a cluster.
/// </summary>
public sealed class FerryRelease : IDisposable
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _configMaps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _nodeFiles = new(StringComparer.Ordinal);
    private readonly List<PodSandbox> _pods = [];

    private FerryRelease(JsonObject values, RenderedChart chart, string databaseConnectionString)
    {
        Values = values;
        Chart = chart;
        var (apiCertificate, apiKey) = Pki.Api();
        var (nodeCertificate, nodeKey) = Pki.Host(NodeName, NodeAddress);

        _secrets[(string)values["api"]!["tls"]!["existingSecret"]!] = new Dictionary<string, string>
        {
            ["ca.crt"] = File.ReadAllText(Pki.CaFile),
            ["tls.crt"] = File.ReadAllText(apiCertificate),
            ["tls.key"] = File.ReadAllText(apiKey),
        };

        // One key per client; the Secret holds only their hashes, as values.yaml asks.
        var apiKeys = values["api"]!["auth"]!["apiKeys"]!;
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in apiKeys["keys"]!.AsArray())
        {
            var secretKey = (string)key!["secretKey"]!;
            var plain = "ferry-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            ApiKeys[(string)key["name"]!] = plain;
            hashes[secretKey] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plain)));
        }

        if (hashes.Count > 0)
        {
            _secrets[(string)apiKeys["existingSecret"]!] = hashes;
        }

        var database = values["database"]!;
        if (database["bundled"]!["enabled"]!.GetValue<bool>())
        {
            if ((string?)database["bundled"]!["existingSecret"] is { Length: > 0 } passwordSecret)
            {
                _secrets[passwordSecret] = new Dictionary<string, string> { ["password"] = "operator-made-password" };
            }
        }
        else
        {
            _secrets[(string)database["existingSecret"]!] = new Dictionary<string, string> { [(string)database["secretKey"]!] = databaseConnectionString };
        }

        var nodeTls = new Dictionary<string, string>
        {
            ["ca.crt"] = File.ReadAllText(Pki.CaFile),
            [NodeName + ".crt"] = File.ReadAllText(nodeCertificate),
            [NodeName + ".key"] = File.ReadAllText(nodeKey),
        };
        var agentTls = values["agent"]!["tls"]!;
        if ((string?)agentTls["source"] == "secret")
        {
            _secrets[(string)agentTls["existingSecret"]!] = nodeTls;
        }
        else
        {
            _nodeFiles[(string)agentTls["hostPath"]!] = nodeTls;
        }

        if ((string?)values["api"]!["auth"]!["jwt"]!["signingKeyConfigMap"] is { Length: > 0 } signingKey)
        {
            using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            _configMaps[signingKey] = new Dictionary<string, string> { ["signing-key.pem"] = issuer.ExportSubjectPublicKeyInfoPem() };
        }

        foreach (var secret in chart.OfKind("Secret"))
        {
            if (_secrets.ContainsKey(secret.Name))
            {
                throw new InvalidOperationException($"{secret} is rendered by the chart and also named as one the operator makes");
            }

            _secrets[secret.Name] = SecretData(secret.Object);
        }
    }

    /// <summary>The compute node the agent's pod is looked at on.</summary>
    public const string NodeName = "compute-1";

    public static IPAddress NodeAddress { get; } = IPAddress.Parse("10.0.0.11");

    public JsonObject Values { get; }

    public RenderedChart Chart { get; }

    /// <summary>The cluster CA and the certificates made with it.</summary>
    public TestPki Pki { get; } = new("Ferry deployment test CA");

    /// <summary>Each API client's key (name → key), whose hash is in the keys' Secret.</summary>
    public Dictionary<string, string> ApiKeys { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Secrets => _secrets;

    /// <summary>Renders the chart with <paramref name="values"/> (already merged) and makes what the operator makes before installing.</summary>
    /// <param name="values">The release's values.</param>
    /// <param name="databaseConnectionString">What the operator puts in the database Secret (an external PostgreSQL).</param>
    public static async Task<FerryRelease> InstallAsync(JsonObject values, string databaseConnectionString = "Host=postgres.db.svc;Port=5432;Database=ferry;Username=ferry;Password=x") =>
        new(values, await HelmChart.Ferry.RenderAsync(values), databaseConnectionString);

    /// <summary>A workload's pod template with what the kubelet adds: a StatefulSet's claims as volumes.</summary>
    public static JsonObject PodSpec(Manifest workload)
    {
        var pod = (JsonObject)RenderedChart.PodSpec(workload).DeepClone();
        foreach (var claim in (workload.Object["spec"]!["volumeClaimTemplates"]?.AsArray() ?? []).OfType<JsonObject>())
        {
            pod["volumes"] ??= new JsonArray();
            pod["volumes"]!.AsArray().Add(new JsonObject
            {
                ["name"] = claim["metadata"]!["name"]!.DeepClone(),
                ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = $"{claim["metadata"]!["name"]}-{workload.Name}-0" },
            });
        }

        return pod;
    }

    /// <summary>
    /// What one container of <paramref name="workload"/> gets when its pod starts on <see cref="NodeName"/>
    /// (the downward API's node name, node address and pod name). Throws when the pod would not start.
    /// </summary>
    public PodSandbox Pod(Manifest workload, string container)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["spec.nodeName"] = NodeName,
            ["status.hostIP"] = NodeAddress.ToString(),
            ["metadata.name"] = $"{workload.Name}-5d8f7c9b4-x2x7q",
            ["metadata.namespace"] = (string)workload.Object["metadata"]!["namespace"]!,
        };
        var pod = new PodSandbox(PodSpec(workload), container, _secrets, fields, _nodeFiles, _configMaps);
        _pods.Add(pod);
        return pod;
    }

    public void Dispose()
    {
        foreach (var pod in _pods)
        {
            pod.Dispose();
        }

        Pki.Dispose();
    }

    /// <summary>A Secret's keys as a pod sees them: stringData as written, data decoded from base64.</summary>
    private static Dictionary<string, string> SecretData(JsonObject secret)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in secret["data"]?.AsObject() ?? [])
        {
            data[key] = Encoding.UTF8.GetString(Convert.FromBase64String((string)value!));
        }

        // The API server writes stringData over data.
        foreach (var (key, value) in secret["stringData"]?.AsObject() ?? [])
        {
            data[key] = (string)value!;
        }

        return data;
    }
}
