namespace Ferry.Api.Notifications;

/// <summary>How much a notification carries (SOL 003 <c>LcmOpOccNotificationVerbosityType</c>).</summary>
public static class SubscriptionVerbosity
{
    /// <summary>Everything, with the migration's result when it has ended.</summary>
    public const string Full = "FULL";

    /// <summary>Without the result: the receiver fetches the migration when it wants it.</summary>
    public const string Short = "SHORT";
}
