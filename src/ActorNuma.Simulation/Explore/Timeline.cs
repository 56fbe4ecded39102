using System.Text.Json;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// A replayed schedule as Chrome trace-event JSON (the format Perfetto and chrome://tracing open): a track per actor
/// (process "actors") and per CPU (process "CPUs"), a slice per handled message, and a flow arrow from the slice that
/// sent a message to the slice that handled it.
/// </summary>
/// <remarks>
/// The time axis is the scheduler's step, one microsecond a step: in deterministic mode virtual time stands still while
/// messages of one instant are handled, so most slices would have no width on it; each slice's arguments give its
/// virtual time. A message handled in a task's or kswapd's context (<see cref="KernelStyleTrace.Contexts"/>) also has a
/// slice on that CPU's track; messages of no context (I/O completions, the runner's) have none there.
/// </remarks>
public static class Timeline
{
    public const int ActorsPid = 1;
    public const int CpusPid = 2;

    public static void Write(Stream output, IReadOnlyList<Delivery> deliveries, IReadOnlyList<Kernel.TraceEvent> events, string title)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ns");
        json.WriteStartObject("otherData");
        json.WriteString("scenario", title);
        json.WriteString("time_axis", "1 us = 1 scheduler step; args.virtual_ms is the virtual time");
        json.WriteEndObject();
        json.WriteStartArray("traceEvents");

        var tids = new Dictionary<string, int>(StringComparer.Ordinal);
        int Tid(string actor)
        {
            if (tids.TryGetValue(actor, out var tid))
            {
                return tid;
            }

            tids[actor] = tid = tids.Count + 1;
            Metadata(json, "thread_name", ActorsPid, tid, actor);
            return tid;
        }
        Metadata(json, "process_name", ActorsPid, null, "actors");
        Metadata(json, "process_name", CpusPid, null, "CPUs");

        var contexts = KernelStyleTrace.Contexts(deliveries);
        var cpuOf = KernelStyleTrace.ContextCpus(events, deliveries);
        var cpus = new HashSet<int>();
        var byStep = deliveries.ToDictionary(d => d.Step);
        var flow = 0;
        foreach (var d in deliveries)
        {
            var tid = Tid(d.Receiver);
            Slice(json, d, ActorsPid, tid, d.Kind);
            if (cpuOf.TryGetValue(d.Step, out var cpu))
            {
                // Thread ids from 1: some viewers take tid 0 for the idle task.
                if (cpus.Add(cpu))
                {
                    Metadata(json, "thread_name", CpusPid, cpu + 1, $"CPU {cpu}");
                }

                Slice(json, d, CpusPid, cpu + 1, $"{d.Receiver}: {d.Kind} ({contexts[d.Step]})");
            }
            // An arrow only from a slice: the sender must be the actor that handled the step the message was sent in.
            if (d.SendStep > 0 && byStep.TryGetValue(d.SendStep, out var from) && from.Receiver == d.Sender)
            {
                flow++;
                Flow(json, "s", flow, Tid(d.Sender), d.SendStep + 0.5, null);
                Flow(json, "f", flow, tid, d.Step, "e");
            }
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Metadata(Utf8JsonWriter json, string name, int pid, int? tid, string value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("ph", "M");
        json.WriteNumber("pid", pid);
        if (tid is { } t)
        {
            json.WriteNumber("tid", t);
        }

        json.WriteStartObject("args");
        json.WriteString("name", value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Slice(Utf8JsonWriter json, Delivery d, int pid, int tid, string name)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("cat", "message");
        json.WriteString("ph", "X");
        json.WriteNumber("ts", d.Step);
        json.WriteNumber("dur", 1);
        json.WriteNumber("pid", pid);
        json.WriteNumber("tid", tid);
        json.WriteStartObject("args");
        json.WriteNumber("step", d.Step);
        json.WriteNumber("virtual_ms", d.Time.TotalMilliseconds);
        json.WriteString("from", d.Sender);
        json.WriteNumber("sent_step", d.SendStep);
        var fields = MessageText.Fields(d.Message);
        json.WriteString("fields", fields.Length <= 400 ? fields : fields[..400] + "…");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Flow(Utf8JsonWriter json, string phase, int id, int tid, double ts, string? bindingPoint)
    {
        json.WriteStartObject();
        json.WriteString("name", "send");
        json.WriteString("cat", "flow");
        json.WriteString("ph", phase);
        json.WriteNumber("id", id);
        json.WriteNumber("ts", ts);
        json.WriteNumber("pid", ActorsPid);
        json.WriteNumber("tid", tid);
        if (bindingPoint is not null)
        {
            json.WriteString("bp", bindingPoint);
        }

        json.WriteEndObject();
    }
}
