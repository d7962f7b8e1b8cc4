// Package policy decides who may do what with a piece of evidence.
//
// The decision logic lives in Cedar policies (https://www.cedarpolicy.com),
// evaluated with github.com/cedar-policy/cedar-go. The default policy set
// ships as the .cedar files of this package, embedded in the binary; a site
// replaces it with a directory of its own .cedar files ([Config.Dir]). Go code
// here only turns a request into Cedar entities and a context, runs the
// policies, and reports the result.
//
// # Model
//
// The principal is a Person entity with attributes agency (an Agency entity),
// jurisdiction and role ("investigator" or "court"). The resource is an
// Evidence entity with attributes owner (an Agency entity) and jurisdiction.
// The action is Action::"view", "bundle", "share", "revoke", "accept" or
// "download". The context carries now (Unix seconds) and grant, a record
// describing one grant of the evidence to the principal's agency, with
// exists set to false when there is none. docs/policy.md describes every
// attribute and every default policy.
//
// # Grants
//
// An agency may hold several grants for the same evidence. [Engine.Decide]
// evaluates the policies once per grant to the principal's agency, active
// grants (not revoked, not expired) first, and allows the action if any
// evaluation allows it; that grant is reported in [Decision.Grant]. When none
// allows it, the denial reported is the one for the first grant tried.
// [Engine.DecideGrant] evaluates one named grant instead, for an action on that
// grant (accepting it).
//
// # Audit
//
// Every policy must carry an @id annotation, unique in the set. A
// [Decision] names the policies that decided it: the permits that allowed
// it, or the forbids that denied it; none means no permit matched (default
// deny).
//
// # Failing closed
//
// Cedar skips a policy whose evaluation fails (for example, one that reads an
// attribute that does not exist). That would let a broken forbid allow what it
// should deny, so [Engine.Decide] denies any evaluation that reported an
// error and lists the errors in [Decision.Errors].
//
// # Imports
//
// It imports cedar-go and the standard library only: no store, no custody
// chain, no HTTP. The application layer (package exhibit) turns an exhibit's
// state into the [Evidence] it decides on.
package policy
