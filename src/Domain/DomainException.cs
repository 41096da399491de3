namespace Ferry.Domain;

/// <summary>A rule of the model was broken: an illegal state transition or an invalid value.</summary>
public sealed class DomainException(string message) : InvalidOperationException(message);
