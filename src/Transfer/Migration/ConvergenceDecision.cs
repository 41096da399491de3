namespace Ferry.Transfer.Migration;

/// <summary>What the convergence controller says after a dirty scan.</summary>
public enum ConvergenceDecision
{
    /// <summary>Send another live pass.</summary>
    Continue,

    /// <summary>The remaining pages fit the downtime budget: pause and send them.</summary>
    SwitchOver,

    /// <summary>The completion timeout passed without converging.</summary>
    GiveUp,
}
