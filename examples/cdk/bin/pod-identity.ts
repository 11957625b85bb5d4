#!/usr/bin/env node
import { App } from "aws-cdk-lib";
import { PodIdentityStack } from "../lib/pod-identity-stack";

const app = new App();

function context(name: string): string {
  const value: unknown = app.node.tryGetContext(name);
  if (typeof value !== "string" || value === "") {
    throw new Error(`missing context value ${name}: set it in cdk.json or pass -c ${name}=...`);
  }
  return value;
}

const common = {
  clusterName: context("clusterName"),
  namespace: context("namespace"),
  serviceAccount: context("serviceAccount"),
};

new PodIdentityStack(app, "PodIdentity", {
  ...common,
  permissionPolicyNames: ["AmazonS3ReadOnlyAccess"],
});

new PodIdentityStack(app, "PodIdentityCrossAccount", {
  ...common,
  targetRoleArn: context("targetRoleArn"),
});
