"""The event side of `make dev`: what AWS does around the notifier, the rollouts and the event bus, on loopback.

Creates the EventBridge bus and a rule sending every `wxopen` event to an SQS queue (on moto),
the rollouts' work queue and the template's rule on audit results, then loops: reads the table's
stream from DynamoDB Local, keeps the records that the template's event source mapping filter
admits, invokes the notifier with them as Lambda would (delivering a batch again from its first
failed record); feeds the rollout queue and the audit results to `rollouts` as Lambda would, and
its sweep every 30 seconds; and prints every event the queue receives.

Usage: dev_events.py DYNAMODB_URL MOTO_URL TABLE BUS FUNCTIONS_URL
"""
import json
import sys
import time
import urllib.request

import boto3
import yaml

from create_table import TemplateLoader

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def stream_filter():
    """The notifier's FilterCriteria pattern, from template.yaml."""
    with open("template.yaml", encoding="utf-8") as f:
        doc = yaml.load(f, Loader=TemplateLoader)
    events = doc["Resources"]["NotifierFunction"]["Properties"]["Events"]["HistoryItems"]
    pattern = json.loads(events["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    kinds = set(pattern["dynamodb"]["NewImage"]["kind"]["S"])
    names = set(pattern["eventName"])
    return lambda r: r["eventName"] in names and r["dynamodb"].get("NewImage", {}).get("kind", {}).get("S") in kinds


def setup_bus(moto, bus):
    events = boto3.client("events", endpoint_url=moto, **CREDENTIALS)
    sqs = boto3.client("sqs", endpoint_url=moto, **CREDENTIALS)
    events.create_event_bus(Name=bus)
    queue = sqs.create_queue(QueueName=f"{bus}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-wxopen-events", EventBusName=bus, EventPattern=json.dumps({"source": ["wxopen"]}))
    events.put_targets(Rule="all-wxopen-events", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    print(f"[events] rule all-wxopen-events on bus {bus} -> SQS {queue}", flush=True)
    return sqs, queue


def audit_pattern():
    """The rollouts' rule on audit results, from template.yaml."""
    with open("template.yaml", encoding="utf-8") as f:
        doc = yaml.load(f, Loader=TemplateLoader)
    rule = doc["Resources"]["RolloutsFunction"]["Properties"]["Events"]["AuditResults"]["Properties"]
    return json.dumps(rule["Pattern"])


def setup_rollouts(moto, bus, sqs):
    """The rollout queue and a queue the audit rule delivers to."""
    events = boto3.client("events", endpoint_url=moto, **CREDENTIALS)
    work = sqs.create_queue(QueueName=f"{bus}-rollouts", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    audits = sqs.create_queue(QueueName=f"{bus}-rollout-audits")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=audits, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="rollout-audits", EventBusName=bus, EventPattern=audit_pattern())
    events.put_targets(Rule="rollout-audits", EventBusName=bus, Targets=[{"Id": "rollouts", "Arn": arn}])
    print(f"[events] rollout work on SQS {work}; audit results -> rollouts", flush=True)
    return work, audits


def invoke(functions_url, function, payload):
    req = urllib.request.Request(
        f"{functions_url}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.load(resp)


def feed_rollouts(functions_url, sqs, work, audits):
    """One batch of rollout work and the audit results waiting, to `rollouts`, as Lambda feeds them."""
    got = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10).get("Messages", [])
    if got:
        records = [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"} for m in got]
        answer = invoke(functions_url, "rollouts", {"Records": records}) or {}
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=work, ReceiptHandle=m["ReceiptHandle"])
    for m in sqs.receive_message(QueueUrl=audits, MaxNumberOfMessages=10).get("Messages", []):
        invoke(functions_url, "rollouts", json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=audits, ReceiptHandle=m["ReceiptHandle"])


def lambda_record(record, stream_arn):
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        data["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }


def invoke_notifier(functions_url, records):
    """Invokes the notifier until it reports no failure, as Lambda retries from the first failed record."""
    for attempt in range(5):
        req = urllib.request.Request(
            f"{functions_url}/2015-03-31/functions/notifier/invocations",
            data=json.dumps({"Records": records}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=120) as resp:
            answer = json.load(resp)
        failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        if not failed:
            return
        first = min(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
        records = records[first:]
        print(f"[events] notifier reported {len(failed)} failed record(s); delivering again", flush=True)
        time.sleep(1 + attempt)
    print("[events] notifier kept failing; records left for inspection in .dev/", flush=True)


def main():
    ddb_url, moto, table, bus, functions_url = sys.argv[1:6]
    sqs, queue = setup_bus(moto, bus)
    work, audits = setup_rollouts(moto, bus, sqs)
    last_sweep = time.monotonic()
    admitted = stream_filter()
    dynamodb = boto3.client("dynamodb", endpoint_url=ddb_url, **CREDENTIALS)
    streams = boto3.client("dynamodbstreams", endpoint_url=ddb_url, **CREDENTIALS)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    iterators = {}
    functions_base = functions_url.rsplit("/lambda-url", 1)[0]
    while True:
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in iterators:
                iterators[shard["ShardId"]] = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        for shard_id, iterator in list(iterators.items()):
            if iterator is None:
                continue
            out = streams.get_records(ShardIterator=iterator, Limit=100)
            iterators[shard_id] = out.get("NextShardIterator")
            records = [lambda_record(r, stream_arn) for r in out["Records"] if admitted(r)]
            if records:
                invoke_notifier(functions_base, records)
        try:
            feed_rollouts(functions_base, sqs, work, audits)
            if time.monotonic() - last_sweep > 30:
                last_sweep = time.monotonic()
                invoke(functions_base, "rollouts", {"job": "sweep"})
        except Exception as e:  # the function's own log says more; keep the rest of the stack going
            print(f"[events] rollouts: {e}", flush=True)
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            event = json.loads(message["Body"])
            detail = event.get("detail", {})
            subject = detail.get("authorizer_appid") or detail.get("registration_id") or detail.get("rollout_id") or detail.get("info_type")
            what = detail.get("change") or detail.get("state") or detail.get("event") or detail.get("msg_type") or detail.get("reason") or ""
            customer = f"for {detail['ext']}" if detail.get("ext") else ""
            said = " ".join(part for part in (subject, what, customer) if part)
            print(f"[event] {event.get('detail-type')}: {said} (id {detail.get('id')})", flush=True)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    main()
