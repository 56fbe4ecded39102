// Every test of this project is a unit test: `dotnet test --filter kind=unit` picks it.
[assembly: AssemblyTrait("kind", "unit")]
