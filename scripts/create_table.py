"""Creates the DynamoDB table from template.yaml's own definition, so local tables and the
deployed one cannot drift. Usage: create_table.py ENDPOINT_URL TABLE_NAME
"""
import sys

import boto3
import yaml


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !GetAtt, ...) as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


TemplateLoader.add_multi_constructor("!", _any_tag)


def main() -> None:
    endpoint, name = sys.argv[1], sys.argv[2]
    with open("template.yaml", encoding="utf-8") as f:
        doc = yaml.load(f, Loader=TemplateLoader)
    tables = [r for r in doc["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        sys.exit("template.yaml must define exactly one AWS::DynamoDB::Table")
    props = tables[0]["Properties"]
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    extra = {}
    stream = props.get("StreamSpecification")
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        **extra,
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    print(f"created table {name} from template.yaml")


if __name__ == "__main__":
    main()
