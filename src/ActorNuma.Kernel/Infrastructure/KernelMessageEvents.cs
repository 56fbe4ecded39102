using System.Globalization;

namespace ActorNuma.Kernel;

/// <summary>The kernel-style events a kernel message stands for, for traces built from the messages delivered (replay's
/// ftrace-format trace): the faults and the swap I/O the kernel emits no event of its own for. The messages are internal
/// to the kernel; this is what others may know of them.</summary>
public static class KernelMessageEvents
{
    /// <summary>Faults and swap I/O <paramref name="message"/> starts, one event per page; none for any other message.</summary>
    public static IEnumerable<(string Name, string Fields)> Derived(object message)
    {
        switch (message)
        {
            // __alloc_pages is asked first of the zonelist's first node; a forward to the next is the same fault.
            case NumaNode.AllocPages { ZonelistIndex: 0, Purpose: not NumaNode.AllocPurpose.SwapIn } m:
                foreach (var item in m.Items)
                {
                    yield return ("page_fault_user", string.Create(CultureInfo.InvariantCulture,
                        $"address=0x{(ulong)item.Vpn << 12:x} task={m.Task} cpu={m.Cpu} type={(m.Purpose == NumaNode.AllocPurpose.CowCopy ? "do_wp_page" : "do_anonymous_page")}"));
                }

                break;
            case SwapDevice.LookupSwapCache m:
                for (var k = 0; k < m.Vpns.Length; k++)
                {
                    yield return ("page_fault_user", string.Create(CultureInfo.InvariantCulture,
                        $"address=0x{(ulong)m.Vpns[k] << 12:x} task={m.TaskId} type=do_swap_page slot={m.Slots[k]}"));
                }

                break;
            case SwapDevice.SwapWritepage m:
                foreach (var item in m.Items)
                {
                    yield return ("swap_writepage", string.Create(CultureInfo.InvariantCulture, $"pfn={item.Pfn} slot={item.Slot}"));
                }

                break;
            case SwapDevice.ReadSwapCacheAsync m:
                for (var k = 0; k < m.Pfns.Length; k++)
                {
                    yield return ("swap_readpage", string.Create(CultureInfo.InvariantCulture, $"pfn={m.Pfns[k]} slot={m.Slots[k]}"));
                }

                break;
        }
    }

}
