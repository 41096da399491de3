namespace Ferry.Api.Versions;

/// <summary>The <c>ApiVersionInformation</c> of ETSI GS NFV-SOL 013 §9.3.</summary>
/// <param name="UriPrefix">Where this major version's resources live.</param>
/// <param name="ApiVersions">The versions served under it.</param>
public sealed record ApiVersionInformation(string UriPrefix, IReadOnlyList<ApiVersion> ApiVersions);

/// <summary>One served version.</summary>
/// <param name="Version">Semantic version, <c>1.0.0</c>.</param>
/// <param name="IsDeprecated">Whether it is going away.</param>
public sealed record ApiVersion(string Version, bool IsDeprecated);
