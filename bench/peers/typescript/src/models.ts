// This is a generated file. Modifications will be overwritten.
import { BaseModel, Dict, integer, Integer, Optional, transformValue } from '@amazon-web-services-cloudformation/cloudformation-cli-typescript-lib';
import { Exclude, Expose, Type, Transform } from 'class-transformer';

export class ResourceModel extends BaseModel {
    ['constructor']: typeof ResourceModel;

    @Exclude()
    public static readonly TYPE_NAME: string = 'AWS::EKS::PodIdentityAssociation';

    @Exclude()
    protected readonly IDENTIFIER_KEY_ASSOCIATIONARN: string = '/properties/AssociationArn';

    @Expose({ name: 'ClusterName' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'clusterName', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    clusterName?: Optional<string>;
    @Expose({ name: 'RoleArn' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'roleArn', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    roleArn?: Optional<string>;
    @Expose({ name: 'Namespace' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'namespace_', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    namespace_?: Optional<string>;
    @Expose({ name: 'ServiceAccount' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'serviceAccount', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    serviceAccount?: Optional<string>;
    @Expose({ name: 'AssociationArn' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'associationArn', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    associationArn?: Optional<string>;
    @Expose({ name: 'AssociationId' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'associationId', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    associationId?: Optional<string>;
    @Expose({ name: 'TargetRoleArn' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'targetRoleArn', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    targetRoleArn?: Optional<string>;
    @Expose({ name: 'Policy' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'policy', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    policy?: Optional<string>;
    @Expose({ name: 'ExternalId' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'externalId', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    externalId?: Optional<string>;
    @Expose({ name: 'DisableSessionTags' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(Boolean, 'disableSessionTags', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    disableSessionTags?: Optional<boolean>;
    @Expose({ name: 'Tags' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(Tag, 'tags', value, obj, [Set]),
        {
            toClassOnly: true,
        }
    )
    tags?: Optional<Set<Tag>>;

    @Exclude()
    public getPrimaryIdentifier(): Dict {
        const identifier: Dict = {};
        if (this.associationArn != null) {
            identifier[this.IDENTIFIER_KEY_ASSOCIATIONARN] = this.associationArn;
        }

        // only return the identifier if it can be used, i.e. if all components are present
        return Object.keys(identifier).length === 1 ? identifier : null;
    }

    @Exclude()
    public getAdditionalIdentifiers(): Array<Dict> {
        const identifiers: Array<Dict> = new Array<Dict>();
        // only return the identifiers if any can be used
        return identifiers.length === 0 ? null : identifiers;
    }
}

export class Tag extends BaseModel {
    ['constructor']: typeof Tag;


    @Expose({ name: 'Key' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'key', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    key?: Optional<string>;
    @Expose({ name: 'Value' })
    @Transform(
        (value: any, obj: any) =>
            transformValue(String, 'value_', value, obj, []),
        {
            toClassOnly: true,
        }
    )
    value_?: Optional<string>;

}

export class TypeConfigurationModel extends BaseModel {
    ['constructor']: typeof TypeConfigurationModel;



}

