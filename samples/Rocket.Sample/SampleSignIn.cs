using System;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rocket.AspNetCore;

namespace Rocket.Sample;

/// <summary>
/// DEVELOPMENT-ONLY sign-in for the sample: <c>POST /login</c> with <c>{"user":"&lt;name&gt;"}</c> signs in as that
/// name with no password (an authentication cookie, so EventSource, WebSocket and SignalR all carry it), and
/// <c>POST /logout</c> signs out. Never copy this into a real app: anybody can be anybody. It exists to show collection
/// families guarded by policies: <c>/rooms/{room}/messages</c> for any signed-in user, <c>/users/{user}/notes</c> only
/// for that user; <c>/messages</c> stays public.
/// </summary>
internal static class SampleSignIn
{
    public const string OwnNotesPolicy = "OwnNotes";

    public static void AddSampleSignIn(this IServiceCollection services, IRocketBuilder rocket)
    {
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = "rocket-sample";
            o.Cookie.SameSite = SameSiteMode.Strict;

            // An API answers 401/403; it does not redirect to a login page.
            o.Events.OnRedirectToLogin = static c =>
            {
                c.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToAccessDenied = static c =>
            {
                c.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAuthorization(o => o.AddPolicy(OwnNotesPolicy, static p => p.RequireAuthenticatedUser().AddRequirements(new OwnerRequirement())));
        services.AddSingleton<IAuthorizationHandler, OwnerHandler>();
        rocket.AddCollectionFamily("rooms/{room}/messages")
            .AddCollectionFamily("users/{user}/notes")
            .RequireAuthorization("rooms/{room}/messages")
            .RequireAuthorization("users/{user}/notes", OwnNotesPolicy);
    }

    public static void MapSampleSignIn(this WebApplication app)
    {
        app.MapRocketCollection("rooms/{room}/messages");
        app.MapRocketCollection("users/{user}/notes");
        app.MapPost("/login", (Delegate)LoginAsync).ExcludeFromDescription();
        app.MapPost("/logout", static async (HttpContext context) =>
        {
            await context.SignOutAsync().ConfigureAwait(false);
            return Results.NoContent();
        }).ExcludeFromDescription();
        app.MapGet("/me", static (HttpContext context) => Results.Json(new { user = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null }))
            .ExcludeFromDescription();
    }

    private static async Task<IResult> LoginAsync(HttpContext context)
    {
        string? user = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("user", out var name) && name.ValueKind == JsonValueKind.String)
            {
                user = name.GetString();
            }
        }
        catch (JsonException)
        {
        }

        // The name becomes a route value of users/{user}/notes, so it follows the families' rule for values.
        if (user is not { Length: > 0 and <= 64 } || !IsName(user))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid user", type: "urn:rocket-sample:problem:invalid-user",
                detail: "The body is {\"user\":\"<name>\"}: 1 to 64 ASCII letters, digits or - _ . ~ @.");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(new ClaimsPrincipal(identity)).ConfigureAwait(false);
        return Results.Json(new { user });
    }

    private static bool IsName(string user)
    {
        if (user is "." or "..")
        {
            return false;
        }

        foreach (var c in user)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '@'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class OwnerRequirement : IAuthorizationRequirement;

    // users/{user}/notes: the route value must be the signed-in user's name.
    private sealed class OwnerHandler : AuthorizationHandler<OwnerRequirement, CollectionResource>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OwnerRequirement requirement, CollectionResource resource)
        {
            if (resource.RouteValues.TryGetValue("user", out var owner) && string.Equals(owner, context.User.Identity?.Name, StringComparison.Ordinal))
            {
                context.Succeed(requirement);
            }

            return Task.CompletedTask;
        }
    }
}
