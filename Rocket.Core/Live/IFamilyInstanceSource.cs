using System.Threading;
using System.Threading.Tasks;

namespace Rocket.Live;

/// <summary>
/// A store outside the process that holds a <see cref="CollectionFamily"/>'s instances (Redis, so that several nodes
/// serve one instance): each instance the family creates in memory is attached to it and loaded before it is served, and
/// detached when the family evicts it from memory (the store keeps it). Set on <see cref="CollectionFamily.Source"/>.
/// </summary>
public interface IFamilyInstanceSource
{
    /// <summary>
    /// Loads <paramref name="collection"/>, just created by the family whose template is <paramref name="familyTemplate"/>, from the store and keeps it fed from then on.
    /// <see cref="CollectionFamily.GetOrCreateAsync"/> serves the instance once this completes; if it fails the instance
    /// is dropped, and the next use attaches it anew.
    /// </summary>
    Task AttachAsync(LiveCollection collection, string familyTemplate, CancellationToken cancellationToken);

    /// <summary>The family evicted <paramref name="collection"/> from memory (it is disposed): stop feeding it. Must not block.</summary>
    void Detach(LiveCollection collection);
}
