using Rocket.Sample;

// dotnet run --project samples/Rocket.Sample [-- --urls http://127.0.0.1:5080]
var app = SampleApp.Create(args);
app.Run();
