// The sample's tests run the balancer against the kernel under many schedules: race experiments.
[assembly: AssemblyTrait("kind", "race")]
