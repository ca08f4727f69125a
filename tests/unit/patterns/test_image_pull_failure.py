"""image_pull_failure: pods waiting on ErrImagePull/ImagePullBackOff; rollback a bad new tag,
hand registry-credential problems to a person."""

from __future__ import annotations

from firstline.domain.action import ActionType
from firstline.domain.alert import Alert
from firstline.domain.evidence import Deployment, PodState
from firstline.patterns.library.image_pull_failure import PATTERN

from .builders_b import bundle_context, context, deployment, event, evidence, make_alert, pod

NOT_FOUND = (
    'Failed to pull image "registry.example.com/catalog/search:4.18.0": rpc error: code = '
    'NotFound desc = failed to resolve reference "registry.example.com/catalog/search:4.18.0": '
    "registry.example.com/catalog/search:4.18.0: not found"
)
UNAUTHORIZED = (
    'Failed to pull image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/billing/invoicer:3.2.1": '
    "failed to resolve reference: pulling from host failed with status code "
    "[manifests 3.2.1]: 401 Unauthorized"
)


def _alert() -> Alert:
    return make_alert(
        "KubeContainerWaiting", namespace="catalog", pod="search-new-x1", container="search"
    )


def _search(minutes_since_rollout: float = 30) -> Deployment:
    return deployment(
        "search",
        namespace="catalog",
        revisions=[
            (14, 60 * 24 * 9, "registry.example.com/catalog/search:4.17.2"),
            (15, minutes_since_rollout, "registry.example.com/catalog/search:4.18.0"),
        ],
    )


def _healthy_pods() -> list[PodState]:
    return [pod(f"search-old-{i}", "search", namespace="catalog") for i in range(3)]


def test_bad_tag_after_rollout_is_rolled_back() -> None:
    waiting = pod(
        "search-new-x1",
        "search",
        namespace="catalog",
        phase="Pending",
        ready=False,
        node="n1",
        waiting_reason="ImagePullBackOff",
    )
    ev = evidence(
        pods=[*_healthy_pods(), waiting],
        events=[event("Failed", NOT_FOUND, "pod/search-new-x1")],
        deployments=[_search()],
    )
    verdict = PATTERN.evaluate(context(_alert(), ev))
    hyp = verdict.hypothesis
    assert hyp is not None and hyp.pattern == "image_pull_failure"
    assert 0.9 <= hyp.confidence <= 0.98
    assert hyp.affected_components == ["search"]
    assert {"pods", "events", "deployments"} <= set(hyp.evidence_refs)
    [action] = hyp.suggested_actions
    assert action.type is ActionType.ROLLBACK
    assert str(action.target) == "deployment/catalog/search"
    assert action.parameters["to_revision"] == 14


def test_registry_credentials_go_to_a_person() -> None:
    waiting = [
        pod(
            f"invoicer-new-{i}",
            "invoicer",
            namespace="billing",
            phase="Pending",
            ready=False,
            node="n3",
            waiting_reason=reason,
        )
        for i, reason in enumerate(("ErrImagePull", "ImagePullBackOff"))
    ]
    ev = evidence(
        pods=[pod("invoicer-old-0", "invoicer", namespace="billing"), *waiting],
        events=[event("Failed", UNAUTHORIZED, "pod/invoicer-new-0")],
        deployments=[
            deployment(
                "invoicer",
                namespace="billing",
                replicas=3,
                ready=1,
                revisions=[(7, 60 * 24 * 6, "ecr/billing/invoicer:3.2.1")],
            )
        ],
    )
    alert = make_alert("KubeDeploymentReplicasMismatch", namespace="billing", deployment="invoicer")
    hyp = PATTERN.evaluate(context(alert, ev)).hypothesis
    assert hyp is not None
    assert 0.85 <= hyp.confidence <= 0.95
    assert "credentials" in hyp.cause
    [action] = hyp.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert action.steps and any("imagePullSecrets" in s for s in action.steps)


def test_pull_errors_that_already_recovered_are_ruled_out() -> None:
    """Near miss: a pull failed a while ago, but every pod is running now."""
    ev = evidence(
        pods=_healthy_pods(),
        events=[event("Failed", NOT_FOUND, "pod/search-old-0", minutes=20)],
        deployments=[_search(minutes_since_rollout=300)],
    )
    verdict = PATTERN.evaluate(context(_alert(), ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2
    assert "no pod is waiting on an image pull" in verdict.ruled_out.reason


def test_another_workloads_pull_failure_does_not_count() -> None:
    """Near miss: some other deployment in the namespace is in ImagePullBackOff."""
    other = pod(
        "indexer-x", "indexer", namespace="catalog", phase="Pending", waiting_reason="ErrImagePull"
    )
    ev = evidence(
        pods=[*_healthy_pods(), other],
        events=[event("Failed", "Failed to pull image indexer:9: not found", "pod/indexer-x")],
        deployments=[_search(minutes_since_rollout=300)],
    )
    alert = make_alert("KubeDeploymentReplicasMismatch", namespace="catalog", deployment="search")
    verdict = PATTERN.evaluate(context(alert, ev))
    assert verdict.hypothesis is None


async def test_bundles() -> None:
    bad_tag = PATTERN.evaluate(await bundle_context("image-pull-bad-tag-search")).hypothesis
    assert bad_tag is not None and bad_tag.confidence >= 0.9
    assert [a.type for a in bad_tag.suggested_actions] == [ActionType.ROLLBACK]
    auth = PATTERN.evaluate(await bundle_context("image-pull-registry-auth-invoicer")).hypothesis
    assert auth is not None and auth.confidence >= 0.85
    assert auth.affected_components == ["invoicer"]
    assert [a.type for a in auth.suggested_actions] == [ActionType.MANUAL_ONLY]
