using BenchmarkDotNet.Running;

// The model's hot paths, each with BenchmarkDotNet's memory diagnoser: a regression in time or in bytes allocated per
// operation shows up as a number. `actornuma bench` measures the whole emulator; these measure its parts.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
