namespace Ferry.Agent.Tests.Support;

/// <summary>Reports synchronously on the reporting thread, unlike Progress&lt;T&gt;, so tests see samples in order.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
