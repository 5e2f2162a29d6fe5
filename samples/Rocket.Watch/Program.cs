using System;
using System.Threading;
using Rocket.Watch;

// dotnet run --project samples/Rocket.Watch -- http://127.0.0.1:5080/messages [--transport sse|websocket|signalr]
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
return await WatchCommand.RunAsync(args, Console.Out, Console.Error, stop.Token);
