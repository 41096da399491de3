namespace Ferry.Transfer.Guest;

/// <summary>The states of a <see cref="GuestControlWord"/>; who moves it from one to the next is documented there.</summary>
public enum GuestRunState
{
    /// <summary>A fresh control file: no guest has claimed it yet.</summary>
    None = 0,

    /// <summary>An incoming guest waits for its RAM and a start request.</summary>
    Incoming = 1,

    /// <summary>The controller asked an incoming guest to start on the RAM it received.</summary>
    StartRequested = 2,

    /// <summary>The guest runs and may write its RAM at any moment.</summary>
    Running = 3,

    /// <summary>The guest runs but sits between two steps, writing nothing until it moves itself back to Running.</summary>
    Quiescent = 4,

    /// <summary>The controller asked a running guest to pause; it acknowledges at the end of its current step.</summary>
    PauseRequested = 5,

    /// <summary>The guest writes nothing until it is resumed.</summary>
    Paused = 6,

    /// <summary>An incoming guest refused to start (its RAM holds no state it can resume); the reason is in the file.</summary>
    StartRefused = 7,

    /// <summary>The guest is gone.</summary>
    Stopped = 8,
}
