#!/usr/bin/env bash
# Deploys Switchboard to Azure Container Apps from deploy/bicep/main.bicep, in three steps:
#   1. every Azure resource but the apps (the container registry must exist first);
#   2. the five images, built inside the registry (`az acr build`: no local Docker);
#   3. the apps.
# Needs the Azure CLI, logged in (`az login`) with rights to create role assignments.
#   AZURE_RESOURCE_GROUP=switchboard-prod SWITCHBOARD_GATEWAY_API_KEYS='[key1]' \
#   SWITCHBOARD_INTERNAL_TOKEN="$(cat internal-token)" make deploy
# (the internal gRPC token: `openssl rand -hex 32`, kept; docs/operations.md "Internal traffic")
# Optional: AZURE_LOCATION (default swedencentral), IMAGE_TAG (default: the project
# version), AZURE_DEPLOY_PARAMS (more `name=value` parameters of main.bicep).
set -euo pipefail

if ! command -v az >/dev/null 2>&1; then
    echo "make deploy needs the Azure CLI (az), which is not installed on this machine." >&2
    echo "Install it, run 'az login', then run make deploy again (docs/operations.md)." >&2
    exit 1
fi

cd "$(dirname "$0")/../.."
: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the resource group to deploy into}"
: "${SWITCHBOARD_GATEWAY_API_KEYS:?set SWITCHBOARD_GATEWAY_API_KEYS to the API keys, e.g. [key1]}"
: "${SWITCHBOARD_INTERNAL_TOKEN:?set SWITCHBOARD_INTERNAL_TOKEN to the internal gRPC token (openssl rand -hex 32)}"
location=${AZURE_LOCATION:-swedencentral}
tag=${IMAGE_TAG:-$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)}
if [ -z "$tag" ] || [ "$tag" = latest ]; then
    echo "IMAGE_TAG must be a pinned version, not '${tag}'" >&2
    exit 1
fi
read -r -a extra <<<"${AZURE_DEPLOY_PARAMS:-}"

deploy() {  # deploy <deployApps> <output name>
    az deployment group create \
        --resource-group "$AZURE_RESOURCE_GROUP" \
        --name "switchboard-$1" \
        --template-file deploy/bicep/main.bicep \
        --parameters deployApps="$1" imageTag="$tag" \
            gatewayApiKeys="$SWITCHBOARD_GATEWAY_API_KEYS" \
            internalAuthToken="$SWITCHBOARD_INTERNAL_TOKEN" "${extra[@]}" \
        --query "properties.outputs.$2.value" --output tsv
}

az group create --name "$AZURE_RESOURCE_GROUP" --location "$location" --output none
registry=$(deploy false registryName)
for service in gateway dialer speech brain store; do
    az acr build --registry "$registry" --image "switchboard-$service:$tag" \
        --file "services/$service/Dockerfile" --build-arg WITH_AZURE=1 .
done
echo "Switchboard is at $(deploy true gatewayUrl)"
