import logging
from typing import Any, Dict, List, MutableMapping, Optional

from cloudformation_cli_python_lib import (
    Action,
    HandlerErrorCode,
    OperationStatus,
    ProgressEvent,
    Resource,
    SessionProxy,
)

from .models import ResourceHandlerRequest, ResourceModel, Tag

# Use this logger to forward log messages to CloudWatch Logs.
LOG = logging.getLogger(__name__)
TYPE_NAME = "AWS::EKS::PodIdentityAssociation"

resource = Resource(TYPE_NAME, ResourceModel)
test_entrypoint = resource.test_entrypoint

# The properties UpdatePodIdentityAssociation changes, as the model and EKS name them.
UPDATABLE = {
    "RoleArn": "roleArn",
    "TargetRoleArn": "targetRoleArn",
    "Policy": "policy",
    "DisableSessionTags": "disableSessionTags",
}


def _eks(session: Optional[SessionProxy], request: ResourceHandlerRequest) -> Any:
    # The library's session holds the caller's credentials but no region; boto3 reads AWS_ENDPOINT_URL_EKS itself.
    return session.client("eks", region_name=request.region)


def _target(model: ResourceModel) -> Dict[str, str]:
    # arn:aws:eks:{region}:{account}:podidentityassociation/{cluster}/{id}
    _, cluster, association_id = model.AssociationArn.split(":", 5)[5].split("/")
    return {"clusterName": cluster, "associationId": association_id}


def _tags(model: Optional[ResourceModel]) -> Dict[str, str]:
    return {tag.Key: tag.Value for tag in (model.Tags or [])} if model else {}


def _model(association: Dict[str, Any]) -> ResourceModel:
    tags = [
        Tag(Key=key, Value=value)
        for key, value in sorted(association.get("tags", {}).items())
        if not key.startswith("aws:")
    ]
    return ResourceModel(
        ClusterName=association["clusterName"],
        RoleArn=association["roleArn"],
        Namespace=association["namespace"],
        ServiceAccount=association["serviceAccount"],
        AssociationArn=association["associationArn"],
        AssociationId=association["associationId"],
        TargetRoleArn=association.get("targetRoleArn") or None,
        Policy=association.get("policy") or None,
        ExternalId=association.get("externalId") or None,
        DisableSessionTags=association.get("disableSessionTags"),
        Tags=tags or None,
    )


@resource.handler(Action.CREATE)
def create_handler(
    session: Optional[SessionProxy],
    request: ResourceHandlerRequest,
    callback_context: MutableMapping[str, Any],
) -> ProgressEvent:
    model = request.desiredResourceState
    arguments: Dict[str, Any] = {
        "clusterName": model.ClusterName,
        "namespace": model.Namespace,
        "serviceAccount": model.ServiceAccount,
        "roleArn": model.RoleArn,
        "clientRequestToken": request.clientRequestToken,
    }
    for prop, name in UPDATABLE.items():
        if prop != "RoleArn" and getattr(model, prop) is not None:
            arguments[name] = getattr(model, prop)
    tags = {**(request.desiredResourceTags or {}), **_tags(model)}
    if tags:
        arguments["tags"] = tags
    created = _eks(session, request).create_pod_identity_association(**arguments)
    return ProgressEvent(status=OperationStatus.SUCCESS, resourceModel=_model(created["association"]))


@resource.handler(Action.UPDATE)
def update_handler(
    session: Optional[SessionProxy],
    request: ResourceHandlerRequest,
    callback_context: MutableMapping[str, Any],
) -> ProgressEvent:
    model = request.desiredResourceState
    eks = _eks(session, request)
    target = _target(model)
    try:
        current = eks.describe_pod_identity_association(**target)["association"]
    except eks.exceptions.ResourceNotFoundException as error:
        return ProgressEvent.failed(HandlerErrorCode.NotFound, str(error))
    changes = {
        name: getattr(model, prop)
        for prop, name in UPDATABLE.items()
        if getattr(model, prop) is not None and getattr(model, prop) != current.get(name)
    }
    if model.TargetRoleArn is None and current.get("targetRoleArn"):
        changes["targetRoleArn"] = ""  # EKS removes the chaining on an empty string
    if changes:
        current = eks.update_pod_identity_association(**target, **changes)["association"]
    wanted = {**(request.desiredResourceTags or {}), **_tags(model)}
    actual = {key: value for key, value in current.get("tags", {}).items() if not key.startswith("aws:")}
    added = {key: value for key, value in wanted.items() if actual.get(key) != value}
    removed: List[str] = [key for key in actual if key not in wanted]
    if added:
        eks.tag_resource(resourceArn=model.AssociationArn, tags=added)
    if removed:
        eks.untag_resource(resourceArn=model.AssociationArn, tagKeys=removed)
    current["tags"] = {**{k: v for k, v in actual.items() if k not in removed}, **added}
    return ProgressEvent(status=OperationStatus.SUCCESS, resourceModel=_model(current))


@resource.handler(Action.DELETE)
def delete_handler(
    session: Optional[SessionProxy],
    request: ResourceHandlerRequest,
    callback_context: MutableMapping[str, Any],
) -> ProgressEvent:
    eks = _eks(session, request)
    try:
        eks.delete_pod_identity_association(**_target(request.desiredResourceState))
    except eks.exceptions.ResourceNotFoundException as error:
        return ProgressEvent.failed(HandlerErrorCode.NotFound, str(error))
    return ProgressEvent(status=OperationStatus.SUCCESS, resourceModel=None)


@resource.handler(Action.READ)
def read_handler(
    session: Optional[SessionProxy],
    request: ResourceHandlerRequest,
    callback_context: MutableMapping[str, Any],
) -> ProgressEvent:
    eks = _eks(session, request)
    try:
        described = eks.describe_pod_identity_association(**_target(request.desiredResourceState))
    except eks.exceptions.ResourceNotFoundException as error:
        return ProgressEvent.failed(HandlerErrorCode.NotFound, str(error))
    return ProgressEvent(status=OperationStatus.SUCCESS, resourceModel=_model(described["association"]))


@resource.handler(Action.LIST)
def list_handler(
    session: Optional[SessionProxy],
    request: ResourceHandlerRequest,
    callback_context: MutableMapping[str, Any],
) -> ProgressEvent:
    arguments: Dict[str, Any] = {"clusterName": request.desiredResourceState.ClusterName, "maxResults": 100}
    if request.nextToken:
        arguments["nextToken"] = request.nextToken
    page = _eks(session, request).list_pod_identity_associations(**arguments)
    models = [
        ResourceModel._deserialize(  # pylint: disable=protected-access
            {
                "ClusterName": summary["clusterName"],
                "Namespace": summary["namespace"],
                "ServiceAccount": summary["serviceAccount"],
                "AssociationArn": summary["associationArn"],
                "AssociationId": summary["associationId"],
            }
        )
        for summary in page["associations"]
    ]
    return ProgressEvent(status=OperationStatus.SUCCESS, resourceModels=models, nextToken=page.get("nextToken"))
