"""GraphQL documents used by the nba-backfill CLI (Dagster 1.13 webserver schema)."""

ASSET_NODES = """
query AssetNodes {
  assetNodes {
    assetKey { path }
    groupName
    isPartitioned
    opVersion
    backfillPolicy { policyType maxPartitionsPerRun }
    dependencyKeys { path }
  }
}
"""

ASSET_PARTITION_STATUSES = """
query AssetPartitionStatuses($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
      ... on DefaultPartitionStatuses {
        materializedPartitions failedPartitions materializingPartitions
      }
    }
  }
}
"""

ASSET_CHECK_STATUSES = """
query AssetCheckStatuses($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    opNames
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks {
          name
          blocking
          partitionStatuses {
            __typename
            ... on AssetCheckTimePartitionStatuses { ranges { status startKey endKey } }
            ... on AssetCheckDefaultPartitionStatuses { failedPartitions executionFailedPartitions }
          }
        }
      }
    }
  }
}
"""

ASSET_CHECK_EXECUTIONS = """
query AssetCheckExecutions(
  $assetKey: AssetKeyInput!, $checkName: String!, $limit: Int!, $cursor: String, $partition: String
) {
  assetCheckExecutions(
    assetKey: $assetKey, checkName: $checkName, limit: $limit, cursor: $cursor, partition: $partition
  ) {
    id
    partition
    status
    timestamp
    runId
    evaluation {
      success
      description
      metadataEntries { label ... on TextMetadataEntry { text } }
    }
  }
}
"""

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILLS = """
query Backfills($limit: Int!) {
  partitionBackfillsOrError(limit: $limit) {
    __typename
    ... on PartitionBackfills {
      results { id status title timestamp isAssetBackfill numPartitions }
    }
    ... on PythonError { message }
  }
}
"""

BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id
      status
      title
      description
      timestamp
      endTimestamp
      isAssetBackfill
      error { message }
      tags { key value }
      assetBackfillData {
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted
            numPartitionsInProgress
            numPartitionsMaterialized
            numPartitionsFailed
          }
        }
      }
      runs(limit: 10000) { id status creationTime tags { key value } assetSelection { path } }
    }
    ... on BackfillNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

BACKFILL_TARGET = """
query BackfillTarget($id: String!, $assetKey: AssetKeyInput!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      partitionsTargetedForAssetKey(assetKey: $assetKey) {
        ranges { start end }
        partitionKeys
      }
    }
  }
}
"""

RUN_FAILURES = """
query RunFailures($runId: ID!, $afterCursor: String, $limit: Int!) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey error { ...ErrorChain } }
        ... on RunFailureEvent { message error { ...ErrorChain } }
      }
    }
    ... on Error { message }
  }
}

fragment ErrorChain on PythonError {
  message
  className
  errorChain { isExplicitLink error { message className } }
}
"""

DAEMON_HEALTH = """
query DaemonHealth {
  instance {
    daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } }
  }
}
"""

LOCATIONS = """
query Locations {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
    ... on PythonError { message }
  }
}
"""

SENSOR_STATES = """
query SensorStates {
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { sensors { name sensorState { status } } }
    }
  }
}
"""
