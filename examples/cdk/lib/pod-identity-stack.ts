import { CfnOutput, Stack, StackProps } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

/** The service principal EKS Auth uses to assume the association's role. */
const POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com";

export interface PodIdentityStackProps extends StackProps {
  /** An EKS cluster in the stack's account and region. */
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Managed policies that give the pods their permissions (same-account only). */
  readonly permissionPolicyNames?: string[];
  /**
   * A role in another account whose credentials the pods get (cross-account role chaining). The role created
   * here is then only the first hop: EKS assumes it, then the target role, passing the association's
   * ExternalId. The target role's trust policy must trust this stack's RoleArn output with that ExternalId
   * (see ../cloudformation/target-role.yaml, or `pia trust target`).
   */
  readonly targetRoleArn?: string;
}

/**
 * An IAM role trusted by this cluster's pods only, and the association that gives it to a service account:
 * the same resources as ../cloudformation/pod-identity.yaml (and pod-identity-cross-account.yaml).
 */
export class PodIdentityStack extends Stack {
  constructor(scope: Construct, id: string, props: PodIdentityStackProps) {
    super(scope, id, props);

    const clusterArn = this.formatArn({ service: "eks", resource: "cluster", resourceName: props.clusterName });

    // The trust policy `pia trust generate --cluster-arn <arn>` prints: EKS Auth assumes the role *and* tags
    // the session (SessionTagsPrincipal adds sts:TagSession), and only this cluster may do so.
    const podRole = new iam.Role(this, "PodRole", {
      description: `EKS Pod Identity role for ${props.namespace}/${props.serviceAccount} on ${props.clusterName}`,
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL).withConditions({
          StringEquals: { "aws:SourceAccount": this.account },
          ArnEquals: { "aws:SourceArn": clusterArn },
        }),
      ),
      managedPolicies: (props.permissionPolicyNames ?? []).map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });

    if (props.targetRoleArn !== undefined) {
      // EKS uses this role's session to assume the target role; the session tags are transitive.
      podRole.addToPolicy(
        new iam.PolicyStatement({ actions: ["sts:AssumeRole", "sts:TagSession"], resources: [props.targetRoleArn] }),
      );
    }

    const association = new eks.CfnPodIdentityAssociation(this, "Association", {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: podRole.roleArn,
      targetRoleArn: props.targetRoleArn,
    });

    new CfnOutput(this, "RoleArn", { value: podRole.roleArn });
    new CfnOutput(this, "AssociationArn", { value: association.attrAssociationArn });
    if (props.targetRoleArn !== undefined) {
      new CfnOutput(this, "ExternalId", {
        description: "The value EKS passes as sts:ExternalId to the target role",
        value: association.attrExternalId,
      });
    }
  }
}
