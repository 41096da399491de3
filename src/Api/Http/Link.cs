namespace Ferry.Api.Http;

/// <summary>A link of a resource's <c>_links</c> (ETSI GS NFV-SOL 013 §8.3: <c>{"href": "…"}</c>).</summary>
/// <param name="Href">The linked resource's URI, relative to the API's root like every <c>Location</c> header.</param>
public sealed record Link(string Href);
