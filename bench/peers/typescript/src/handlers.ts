import {
    Action,
    BaseResource,
    handlerEvent,
    HandlerErrorCode,
    LoggerProxy,
    OperationStatus,
    Optional,
    ProgressEvent,
    ResourceHandlerRequest,
    SessionProxy,
} from '@amazon-web-services-cloudformation/cloudformation-cli-typescript-lib';
import {
    CreatePodIdentityAssociationCommand,
    DeletePodIdentityAssociationCommand,
    DescribePodIdentityAssociationCommand,
    EKSClient,
    ListPodIdentityAssociationsCommand,
    PodIdentityAssociation,
    ResourceNotFoundException,
    TagResourceCommand,
    UntagResourceCommand,
    UpdatePodIdentityAssociationCommand,
    UpdatePodIdentityAssociationRequest,
} from '@aws-sdk/client-eks';
import { ResourceModel, TypeConfigurationModel } from './models';

interface CallbackContext extends Record<string, any> {}

type Event = ProgressEvent<ResourceModel, CallbackContext>;

// The library's session holds the caller's credentials; the SDK reads AWS_ENDPOINT_URL_EKS itself.
function eks(session: Optional<SessionProxy>, request: ResourceHandlerRequest<ResourceModel>): EKSClient {
    const { accessKeyId, secretAccessKey, sessionToken } = session.configuration.credentials;
    return new EKSClient({ region: request.region, credentials: { accessKeyId, secretAccessKey, sessionToken } });
}

// arn:aws:eks:{region}:{account}:podidentityassociation/{cluster}/{id}
function target(model: ResourceModel): { clusterName: string; associationId: string } {
    const [, clusterName, associationId] = model.associationArn.split(':')[5].split('/');
    return { clusterName, associationId };
}

type Tags = Record<string, string>;

function tagsWhere(tags: Tags, keep: (key: string, value: string) => boolean): Tags {
    const kept: Tags = {};
    Object.entries(tags).forEach(([key, value]) => {
        if (keep(key, value)) kept[key] = value;
    });
    return kept;
}

// The generated model types Tags as Set<Tag>, but its deserialization leaves each item a plain { Key, Value }.
function modelTags(model: ResourceModel): Tags {
    const tags: Tags = {};
    (model.tags ?? new Set()).forEach((tag) => {
        const { Key, Value } = tag as unknown as { Key: string; Value: string };
        tags[Key] = Value;
    });
    return tags;
}

function withoutReserved(tags: Tags = {}): Tags {
    return tagsWhere(tags, (key) => !key.startsWith('aws:'));
}

function toModel(association: PodIdentityAssociation): ResourceModel {
    const tags = Object.entries(withoutReserved(association.tags))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([Key, Value]) => ({ Key, Value }));
    return ResourceModel.deserialize({
        ClusterName: association.clusterName,
        RoleArn: association.roleArn,
        Namespace: association.namespace,
        ServiceAccount: association.serviceAccount,
        AssociationArn: association.associationArn,
        AssociationId: association.associationId,
        TargetRoleArn: association.targetRoleArn || undefined,
        Policy: association.policy || undefined,
        ExternalId: association.externalId || undefined,
        DisableSessionTags: association.disableSessionTags,
        Tags: tags.length ? tags : undefined,
    });
}

function notFound(error: unknown): Event {
    if (error instanceof ResourceNotFoundException) {
        return ProgressEvent.failed<Event>(HandlerErrorCode.NotFound, error.message);
    }
    throw error;
}

class Resource extends BaseResource<ResourceModel> {
    @handlerEvent(Action.Create)
    public async create(
        session: Optional<SessionProxy>,
        request: ResourceHandlerRequest<ResourceModel>,
        callbackContext: CallbackContext,
        logger: LoggerProxy,
        typeConfiguration: TypeConfigurationModel,
    ): Promise<Event> {
        const model = new ResourceModel(request.desiredResourceState);
        const tags = { ...(request.desiredResourceTags ?? {}), ...modelTags(model) };
        const created = await eks(session, request).send(
            new CreatePodIdentityAssociationCommand({
                clusterName: model.clusterName,
                namespace: model.namespace_,
                serviceAccount: model.serviceAccount,
                roleArn: model.roleArn,
                targetRoleArn: model.targetRoleArn ?? undefined,
                policy: model.policy ?? undefined,
                disableSessionTags: model.disableSessionTags ?? undefined,
                clientRequestToken: request.clientRequestToken,
                tags: Object.keys(tags).length ? tags : undefined,
            }),
        );
        return ProgressEvent.success<Event>(toModel(created.association));
    }

    @handlerEvent(Action.Update)
    public async update(
        session: Optional<SessionProxy>,
        request: ResourceHandlerRequest<ResourceModel>,
        callbackContext: CallbackContext,
        logger: LoggerProxy,
        typeConfiguration: TypeConfigurationModel,
    ): Promise<Event> {
        const model = new ResourceModel(request.desiredResourceState);
        const client = eks(session, request);
        let current: PodIdentityAssociation;
        try {
            current = (await client.send(new DescribePodIdentityAssociationCommand(target(model)))).association;
        } catch (error) {
            return notFound(error);
        }
        const changes: Partial<UpdatePodIdentityAssociationRequest> = {};
        if (model.roleArn != null && model.roleArn !== current.roleArn) changes.roleArn = model.roleArn;
        if ((model.targetRoleArn ?? '') !== (current.targetRoleArn ?? '')) {
            changes.targetRoleArn = model.targetRoleArn ?? ''; // EKS removes the chaining on an empty string
        }
        if (model.policy != null && model.policy !== current.policy) changes.policy = model.policy;
        if (model.disableSessionTags != null && model.disableSessionTags !== current.disableSessionTags) {
            changes.disableSessionTags = model.disableSessionTags;
        }
        if (Object.keys(changes).length) {
            const updated = await client.send(new UpdatePodIdentityAssociationCommand({ ...target(model), ...changes }));
            current = updated.association;
        }
        const wanted: Tags = { ...(request.desiredResourceTags ?? {}), ...modelTags(model) };
        const actual = withoutReserved(current.tags);
        const added = tagsWhere(wanted, (key, value) => actual[key] !== value);
        const removed = Object.keys(actual).filter((key) => !(key in wanted));
        if (Object.keys(added).length) {
            await client.send(new TagResourceCommand({ resourceArn: model.associationArn, tags: added }));
        }
        if (removed.length) {
            await client.send(new UntagResourceCommand({ resourceArn: model.associationArn, tagKeys: removed }));
        }
        removed.forEach((key) => delete actual[key]);
        return ProgressEvent.success<Event>(toModel({ ...current, tags: { ...actual, ...added } }));
    }

    @handlerEvent(Action.Delete)
    public async delete(
        session: Optional<SessionProxy>,
        request: ResourceHandlerRequest<ResourceModel>,
        callbackContext: CallbackContext,
        logger: LoggerProxy,
        typeConfiguration: TypeConfigurationModel,
    ): Promise<Event> {
        const model = new ResourceModel(request.desiredResourceState);
        try {
            await eks(session, request).send(new DeletePodIdentityAssociationCommand(target(model)));
        } catch (error) {
            return notFound(error);
        }
        return ProgressEvent.success<Event>();
    }

    @handlerEvent(Action.Read)
    public async read(
        session: Optional<SessionProxy>,
        request: ResourceHandlerRequest<ResourceModel>,
        callbackContext: CallbackContext,
        logger: LoggerProxy,
        typeConfiguration: TypeConfigurationModel,
    ): Promise<Event> {
        const model = new ResourceModel(request.desiredResourceState);
        try {
            const described = await eks(session, request).send(new DescribePodIdentityAssociationCommand(target(model)));
            return ProgressEvent.success<Event>(toModel(described.association));
        } catch (error) {
            return notFound(error);
        }
    }

    @handlerEvent(Action.List)
    public async list(
        session: Optional<SessionProxy>,
        request: ResourceHandlerRequest<ResourceModel>,
        callbackContext: CallbackContext,
        logger: LoggerProxy,
        typeConfiguration: TypeConfigurationModel,
    ): Promise<Event> {
        const model = new ResourceModel(request.desiredResourceState);
        const page = await eks(session, request).send(
            new ListPodIdentityAssociationsCommand({
                clusterName: model.clusterName,
                maxResults: 100,
                nextToken: request.nextToken,
            }),
        );
        const models = page.associations.map((summary) =>
            ResourceModel.deserialize({
                ClusterName: summary.clusterName,
                Namespace: summary.namespace,
                ServiceAccount: summary.serviceAccount,
                AssociationArn: summary.associationArn,
                AssociationId: summary.associationId,
            }),
        );
        return ProgressEvent.builder<Event>()
            .status(OperationStatus.Success)
            .resourceModels(models)
            .nextToken(page.nextToken)
            .build();
    }
}

// @ts-ignore // if running against v1.0.1 or earlier of plugin the 5th argument is not known but best to ignored (runtime code may warn)
export const resource = new Resource(ResourceModel.TYPE_NAME, ResourceModel, null, null, TypeConfigurationModel)!;

// Entrypoint for production usage after registered in CloudFormation
export const entrypoint = resource.entrypoint;

// Entrypoint used for local testing
export const testEntrypoint = resource.testEntrypoint;
