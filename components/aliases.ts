/**
 * Names resources had in earlier versions of the program, so that `pulumi up` of a stack deployed by one of them
 * moves each resource to its new name in state instead of replacing it (Pulumi aliases). Child resources follow
 * their parent's alias by themselves when their names start with the parent's: only the roots of a rename are here.
 */
import * as pulumi from "@pulumi/pulumi";

/** A resource that was a direct child of the stack, named `name`, of type `type`. */
export function rootAlias(name: string, type: string): pulumi.Output<string> {
  return pulumi.createUrn(name, type);
}
