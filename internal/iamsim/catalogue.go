package iamsim

// awsManaged is the small catalogue of AWS managed policies every simulated
// account starts with. Real accounts have hundreds; these are the ones a
// GitLab deploy role is commonly given, plus AdministratorAccess so the
// "are you sure?" path can be demonstrated.
var awsManaged = []struct{ arn, name, document string }{
	{
		arn:      "arn:aws:iam::aws:policy/AdministratorAccess",
		name:     "AdministratorAccess",
		document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	},
	{
		arn:      "arn:aws:iam::aws:policy/ReadOnlyAccess",
		name:     "ReadOnlyAccess",
		document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*"],"Resource":"*"}]}`,
	},
	{
		arn:      "arn:aws:iam::aws:policy/AmazonS3FullAccess",
		name:     "AmazonS3FullAccess",
		document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}`,
	},
	{
		arn:      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
		name:     "AmazonEC2ContainerRegistryPowerUser",
		document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}`,
	},
}
