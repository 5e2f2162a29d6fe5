using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Rocket.Live;
using Rocket.SignalR;

namespace Rocket.Transports.SignalR.Tests;

/// <summary>
/// The wire contract's one reader (RocketHubContract.cs, compiled into the client package and this server) reads
/// exactly what the server's framers write, in both hub protocols: what the .NET client binds is what was published.
/// </summary>
public sealed class HubContractTests
{
    [Theory]
    [InlineData("json", false)]
    [InlineData("json", true)]
    [InlineData("messagepack", false)]
    [InlineData("messagepack", true)]
    public void FramedPatch_ReadWithTheContract_IsThePublishedPatchByteForByte(string protocolName, bool reset)
    {
        var patch = Encoding.UTF8.GetBytes("""[{"op":"add","path":"/rooms~1a/1","value":{"id":"1","text":"é \"q\" </script> \u2028"}}]""");
        var output = new ArrayBufferWriter<byte>();
        SignalREventFramer.ForProtocol(protocolName)!.Frame(new LiveEvent("rooms/a", new Cursor(0x2a, 9), patch, reset), output);

        var message = ReadOne(protocolName, output.WrittenSpan.ToArray());

        Assert.Equal(RocketHubContract.PatchTarget, message.Target);
        Assert.Equal(["rooms/a", "0000002a.9", reset], message.Arguments[..3]);
        Assert.Equal(patch, Assert.IsType<HubPatch>(message.Arguments[3]).Utf8);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public void FramedClose_ReadWithTheContract_HasStatusAndReason(string protocolName)
    {
        var reason = CloseReason.ShuttingDown;

        var message = ReadOne(protocolName, SignalREventFramer.ForProtocol(protocolName)!.FrameClose("messages", reason));

        Assert.Equal(RocketHubContract.CloseTarget, message.Target);
        Assert.Equal(["messages", "ShuttingDown", reason.Description], message.Arguments);
    }

    [Fact]
    public void HubMethodsAndPath_AreTheContractsNames()
    {
        Assert.NotNull(typeof(RocketHub).GetMethod(RocketHubContract.Subscribe));
        Assert.NotNull(typeof(RocketHub).GetMethod(RocketHubContract.Unsubscribe));
        Assert.Equal(RocketHubContract.DefaultPath, RocketHubEndpointRouteBuilderExtensions.DefaultHubPattern);
    }

    private static InvocationMessage ReadOne(string protocolName, byte[] bytes)
    {
        IHubProtocol protocol = protocolName == "json" ? new JsonHubProtocol() : new MessagePackHubProtocol();
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(protocol.TryParseMessage(ref buffer, new ContractBinder(), out var message));
        Assert.True(buffer.IsEmpty, "bytes left over");
        return Assert.IsType<InvocationMessage>(message);
    }

    // Binds as the client does: the parameter types come from the contract.
    private sealed class ContractBinder : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => methodName switch
        {
            RocketHubContract.PatchTarget => RocketHubContract.PatchParameters,
            RocketHubContract.CloseTarget => RocketHubContract.CloseParameters,
            _ => throw new InvalidOperationException(methodName),
        };

        public Type GetReturnType(string invocationId) => throw new InvalidOperationException();

        public Type GetStreamItemType(string streamId) => throw new InvalidOperationException();
    }
}
