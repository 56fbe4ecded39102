
namespace ActorNuma.Kernel;

/// <summary>The dispatcher every kernel actor runs on. In deterministic mode it is the seeded single-thread executor;
/// in concurrent mode an ordinary thread-pool dispatcher. Children do not inherit a dispatcher, so every kernel Props
/// must ask for it.</summary>
public static class KernelDispatcher
{
    public const string Id = "actornuma.deterministic-dispatcher";

    public static Props OnKernelDispatcher(this Props props) => props.WithDispatcher(Id);
}
