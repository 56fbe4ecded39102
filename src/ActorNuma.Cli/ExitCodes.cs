namespace ActorNuma.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int ExpectationFailed = 1;
    public const int BadInput = 2;
    public const int CheckerFired = 3;
}
