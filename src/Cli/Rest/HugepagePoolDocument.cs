namespace Ferry.Cli.Rest;

/// <summary>One hugepage pool of a host: its page size and how many pages it has and has free.</summary>
internal sealed record HugepagePoolDocument(long PageSizeKiB, long Total, long Free)
{
    public long FreeMiB => PageSizeKiB * Free / 1024;
}
