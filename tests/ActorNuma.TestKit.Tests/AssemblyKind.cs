// Every test of this project is a unit test of the TestKit: `dotnet test --filter kind=unit` picks it.
[assembly: AssemblyTrait("kind", "unit")]
