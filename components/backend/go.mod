module github.com/ai-infra-matrix/matrix/components/backend

go 1.26
