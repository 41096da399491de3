using Ferry.Contracts;

namespace Ferry.Agent.ControlPlane;

/// <summary>Sends progress samples to the API best-effort: a lost sample costs a bar's smoothness, never a result.</summary>
public interface IProgressForwarder
{
    void Forward(MigrationProgress progress);
}
