namespace Ferry.Deploy.Tests.Chart;

/// <summary>A template that Go's text/template refused to parse or execute.</summary>
public sealed class TemplateRenderException(string message) : Exception(message);
