"""What Terraform applied, read back through boto3 (AWS's own SDK) from the endpoint in AWS_ENDPOINT_URL.

Used by tests/terraform_aws.rs against moto on loopback. One JSON object on stdout.

  aws_readback.py create-secret NAME     value on stdin; prints {"arn": ...}
  aws_readback.py delete-secret ARN       at once, no recovery window
  aws_readback.py read QUERY             QUERY = {"family": F, "role": ROLE or null, "secrets": [ARN, ...]}
  aws_readback.py gone QUERY             after destroy: what of QUERY is still there
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"


def client(name):
    return boto3.client(name, region_name=REGION)


def create_secret(name):
    arn = client("secretsmanager").create_secret(Name=name, SecretString=sys.stdin.read())["ARN"]
    return {"arn": arn}


def delete_secret(arn):
    client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    return {}


def read(query):
    out = {"task_definition": client("ecs").describe_task_definition(taskDefinition=query["family"])["taskDefinition"]}
    role = query.get("role")
    if role:
        iam = client("iam")
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        out["role_policies"] = {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        out["attached_policies"] = sorted(p["PolicyArn"] for p in attached)
    sm = client("secretsmanager")
    out["secrets"] = {arn: sm.get_secret_value(SecretId=arn)["SecretString"] for arn in query.get("secrets", [])}
    return out


def exists(call):
    try:
        call()
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] in ("NoSuchEntity", "ResourceNotFoundException"):
            return False
        raise


def gone(query):
    ecs = client("ecs")
    active = ecs.list_task_definitions(familyPrefix=query["family"], status="ACTIVE")["taskDefinitionArns"]
    role = query.get("role")
    sm = client("secretsmanager")
    return {
        "active_task_definitions": active,
        "role_exists": bool(role) and exists(lambda: client("iam").get_role(RoleName=role)),
        "secrets_existing": [arn for arn in query.get("secrets", []) if exists(lambda: sm.describe_secret(SecretId=arn))],
    }


def main():
    action, arg = sys.argv[1], sys.argv[2]
    if action == "create-secret":
        result = create_secret(arg)
    elif action == "delete-secret":
        result = delete_secret(arg)
    elif action == "read":
        result = read(json.loads(arg))
    elif action == "gone":
        result = gone(json.loads(arg))
    else:
        raise SystemExit(f"unknown action {action!r}")
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
